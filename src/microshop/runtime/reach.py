"""How the operator's commands reach a system started from a data dir: a service's
address from the state file, and the operator's credential, which /internal routes,
the ops API and the supervisor's control port ask for."""

from microshop.chassis.service_auth import HEADER, operator_credential
from microshop.runtime.errors import StartupError
from microshop.runtime.ports import HOST
from microshop.runtime.settings import RuntimeSettings
from microshop.runtime.state import RunPaths, read_state


def service_url(paths: RunPaths, service: str) -> str:
    """The first instance of `service` that the running system recorded."""
    state = read_state(paths)
    if state is None:
        raise StartupError(f"microshop is not running with data dir {paths.data_dir}")
    record = state.processes.get(service)
    if record is None:
        raise StartupError(f"no {service} service runs with data dir {paths.data_dir}")
    return f"http://{HOST}:{record.port}"


def operator_headers(paths: RunPaths, settings: RuntimeSettings) -> dict[str, str]:
    key = settings.service_key
    credential = operator_credential(key.get_secret_value() if key else None, paths.data_dir)
    return {HEADER: credential.token()}
