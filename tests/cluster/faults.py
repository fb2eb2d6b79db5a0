"""The two failures the run injects, each undone by its own `heal`, also when the
test fails half-way (the run's trap removes whatever is left anyway)."""

import subprocess

PARTITION_TABLE = "microshop_partition"


def _run(*argv: str) -> None:
    subprocess.run(argv, check=True, timeout=10, capture_output=True)


class CutLink:
    """A host cut off: the bridge end of its link down. Connects to it fail at once
    (the safety route answers "no route to host"); the host itself keeps its routes."""

    def __init__(self, link: str) -> None:
        self.link = link

    def inject(self) -> None:
        _run("ip", "link", "set", self.link, "down")

    def heal(self) -> None:
        _run("ip", "link", "set", self.link, "up")


class OneWayPartition:
    """A host that still sends but hears nothing from the other hosts: nftables in
    its namespace drops whatever arrives from their subnet."""

    def __init__(self, namespace: str, subnet: str) -> None:
        self.namespace, self.subnet = namespace, subnet

    def inject(self) -> None:
        rules = (
            f"table inet {PARTITION_TABLE} {{\n"
            "  chain input {\n"
            "    type filter hook input priority 0; policy accept;\n"
            f"    ip saddr {self.subnet} drop\n"
            "  }\n"
            "}\n"
        )
        subprocess.run(
            ["ip", "netns", "exec", self.namespace, "nft", "-f", "-"],
            input=rules.encode(),
            check=True,
            timeout=10,
            capture_output=True,
        )

    def heal(self) -> None:
        subprocess.run(
            [
                "ip",
                "netns",
                "exec",
                self.namespace,
                "nft",
                "delete",
                "table",
                "inet",
                PARTITION_TABLE,
            ],
            check=False,
            timeout=10,
            capture_output=True,
        )
