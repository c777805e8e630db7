"""start: where every run begins; routes at once along its edges."""

from engine.nodes.base import NodeType


class Start(NodeType):
    name = "start"
    accepts_incoming = False


NODE = Start()
