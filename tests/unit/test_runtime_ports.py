import socket

import pytest

from microshop.runtime.errors import StartupError
from microshop.runtime.ports import PortPlan, ensure_ports_free, is_port_free, plan_ports
from tests.support.asgi import free_port


def test_the_admin_interface_takes_the_base_and_services_follow_in_order() -> None:
    plan = plan_ports(8080, 8100, ["users", "catalog", "orders"])
    assert plan.gateway == 8080
    assert plan.admin == 8100
    assert plan.services == {"users": 8101, "catalog": 8102, "orders": 8103}
    assert plan.all_ports() == [8080, 8100, 8101, 8102, 8103]


def test_two_systems_with_two_bases_share_no_port() -> None:
    first = plan_ports(8080, 8100, ["users", "catalog"])
    second = plan_ports(9080, 9100, ["users", "catalog"])
    assert not set(first.all_ports()) & set(second.all_ports())


def test_a_gateway_port_inside_the_service_range_is_refused() -> None:
    with pytest.raises(StartupError, match="gateway port 8102 collides"):
        plan_ports(8102, 8100, ["users", "catalog", "orders"])


def test_ports_beyond_65535_are_refused() -> None:
    with pytest.raises(StartupError, match="outside 1-65535"):
        plan_ports(8080, 65534, ["users", "catalog"])


def busy_port() -> socket.socket:
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    return taken


def test_a_busy_gateway_port_is_reported_in_one_line_naming_the_option_to_move_it() -> None:
    with busy_port() as taken:
        port = taken.getsockname()[1]
        assert not is_port_free(port)
        plan = PortPlan(gateway=port, admin=free_port(), services={"users": free_port()})
        with pytest.raises(StartupError) as error:
            ensure_ports_free(plan)
    assert str(error.value) == f"port {port} is already in use (choose another with --port)"


def test_a_busy_service_port_names_the_base_option_and_the_range_it_moves() -> None:
    with busy_port() as taken:
        port = taken.getsockname()[1]
        admin = free_port()
        plan = PortPlan(gateway=free_port(), admin=admin, services={"users": port})
        with pytest.raises(StartupError, match=f"port {port} is already in use") as error:
            ensure_ports_free(plan)
    assert "choose another range with --service-port-base" in str(error.value)
    assert f"take {admin}-{admin + 1}" in str(error.value)


def test_a_busy_embedded_nats_port_names_the_base_option_and_the_external_broker() -> None:
    with busy_port() as taken:
        port = taken.getsockname()[1]
        plan = PortPlan(free_port(), free_port(), {}, nats=port, nats_monitor=free_port())
        with pytest.raises(StartupError) as error:
            ensure_ports_free(plan)
    assert "embedded NATS" in str(error.value) and "--broker" in str(error.value)


def test_free_ports_pass_the_check() -> None:
    ensure_ports_free(PortPlan(gateway=free_port(), admin=free_port(), services={}))


def test_the_embedded_nats_listens_fifty_ports_above_the_base_with_its_monitor_next() -> None:
    plan = plan_ports(8080, 8100, ["users", "catalog"], embedded_nats=True)
    assert (plan.nats, plan.nats_monitor) == (8150, 8151)
    assert plan.all_ports() == [8080, 8100, 8101, 8102, 8150, 8151]


def test_an_external_broker_needs_no_nats_ports() -> None:
    plan = plan_ports(8080, 8100, ["users", "catalog"])
    assert (plan.nats, plan.nats_monitor) == (None, None)
    assert 8150 not in plan.all_ports()


def test_a_gateway_port_on_the_embedded_nats_is_refused() -> None:
    with pytest.raises(StartupError, match="collides with the embedded NATS"):
        plan_ports(8151, 8100, ["users"], embedded_nats=True)
