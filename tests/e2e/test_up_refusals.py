"""`microshop up` refuses to start what cannot run, in one line and before starting anything."""

import socket
from pathlib import Path

from tests.e2e.system import clean_env, free_port_base, run_microshop
from tests.support.asgi import free_port


def test_up_refuses_a_busy_gateway_port_naming_it(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        data_dir, base = str(tmp_path / "data"), str(free_port_base())
        args = ["up", "--detach", "--data-dir", data_dir, "--port", str(port)]
        result = run_microshop([*args, "--service-port-base", base], clean_env())
    assert result.returncode == 1
    assert result.stderr.strip() == (
        f"error: port {port} is already in use (choose another with --port)"
    )
    assert not (tmp_path / "data" / "run" / "supervisor.pid").exists()


def test_down_without_a_running_system_says_so(tmp_path: Path) -> None:
    result = run_microshop(["down", "--data-dir", str(tmp_path)], clean_env())
    assert result.returncode == 0
    assert "not running" in result.stdout


def test_up_refuses_a_busy_embedded_nats_port_naming_it(tmp_path: Path) -> None:
    base = free_port_base()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", base + 50))
        taken.listen()
        gateway = str(free_port())
        args = ["up", "--detach", "--data-dir", str(tmp_path / "data"), "--port", gateway]
        result = run_microshop([*args, "--service-port-base", str(base)], clean_env())
    assert result.returncode == 1
    assert result.stderr.strip().startswith(f"error: port {base + 50} is already in use (")
    assert "choose another --service-port-base" in result.stderr


def test_up_refuses_a_broker_url_it_cannot_speak(tmp_path: Path) -> None:
    args = ["up", "--detach", "--data-dir", str(tmp_path / "data"), "--broker", "kafka://x:9092"]
    result = run_microshop(args, clean_env())
    assert result.returncode == 1
    assert "unsupported broker URL 'kafka://x:9092'" in result.stderr


def test_up_refuses_a_busy_service_port_naming_the_option_that_moves_the_range(
    tmp_path: Path,
) -> None:
    base = free_port_base()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", base + 3))
        taken.listen()
        args = ["up", "--detach", "--data-dir", str(tmp_path / "data"), "--port", str(free_port())]
        result = run_microshop([*args, "--service-port-base", str(base)], clean_env())
    assert result.returncode == 1
    assert result.stderr.strip().startswith(f"error: port {base + 3} is already in use (")
    assert "choose another range with --service-port-base" in result.stderr


def test_a_detached_start_that_fails_says_where_its_log_is_and_why(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    unreachable = f"postgresql+asyncpg://nobody@127.0.0.1:{free_port()}/nothing"
    args = ["up", "--detach", "--data-dir", str(data_dir), "--port", str(free_port())]
    args += ["--service-port-base", str(free_port_base())]
    result = run_microshop(args, clean_env(MICROSHOP_USERS_DATABASE_URL=unreachable), 150)
    log = data_dir / "logs" / "microshop.log"
    assert result.returncode == 1
    assert f"logging to {log}" in result.stderr
    assert f"last lines of {log}" in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("error: users: database ")
    assert not (data_dir / "run" / "supervisor.pid").exists()
