"""What every container of deploy/compose.yaml is, whichever profile runs."""

from microshop.services import APPS
from microshop.tools.deploy import dns_name
from tests.compose.containers import broker, containers, service_of, uid_in


def test_every_container_is_healthy_by_its_own_check_and_runs_as_no_root() -> None:
    seen = set()
    for container in containers():
        name = service_of(container)
        seen.add(name)
        assert container["Config"].get("Healthcheck", {}).get("Test"), f"{name}: no check"
        assert container["State"]["Health"]["Status"] == "healthy", name
        assert container["Config"]["User"] not in ("", "0", "root"), f"{name} runs as root"
        assert uid_in(container) != 0, f"{name} runs as root"
    expected = {"postgres", "mariadb", "gateway", broker(), *(dns_name(s) for s in APPS)}
    assert seen == expected


def test_only_the_gateway_publishes_a_port() -> None:
    published = {
        service_of(c)
        for c in containers()
        if any(bindings for bindings in (c["NetworkSettings"]["Ports"] or {}).values())
    }
    assert published == {"gateway"}


def test_each_service_has_its_own_database_and_orders_lives_on_mariadb() -> None:
    for container in containers():
        env = dict(item.partition("=")[::2] for item in container["Config"]["Env"])
        urls = [v for k, v in env.items() if k.endswith("_DATABASE_URL")]
        name = service_of(container)
        if name == "orders":
            assert urls == ["mysql+asyncmy://microshop:microshop@mariadb:3306/microshop_orders"]
        elif name.replace("-", "_") in APPS:
            assert len(urls) == 1 and urls[0].startswith("postgresql+asyncpg://"), name
            assert urls[0].endswith(f"@postgres:5432/microshop_{name.replace('-', '_')}")
