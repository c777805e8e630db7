"""Published versions' compiled graphs, compiled once per process."""

from designer.models import WorkflowVersion
from engine.graph.compiled import CompiledGraph

# {version id: compiled graph}. Only published versions and test snapshots run, and
# the database refuses any change to either, so the id alone identifies the graph.
_GRAPH_CACHE: dict[int, CompiledGraph] = {}


def compiled_graph(version: WorkflowVersion) -> CompiledGraph:
    """Return the compiled graph of a published version, compiled once per process."""
    return compiled_graph_for(version.pk, version=version)


def compiled_graph_for(
    version_id: int, *, version: WorkflowVersion | None = None
) -> CompiledGraph:
    """Return a published version's compiled graph, reading it only on a cache miss."""
    graph = _GRAPH_CACHE.get(version_id)
    if graph is None:
        if version is None:
            # The base manager: a test snapshot runs too (VersionManager hides it).
            version = WorkflowVersion._base_manager.only("graph").get(pk=version_id)
        if len(_GRAPH_CACHE) > 512:
            _GRAPH_CACHE.clear()
        graph = CompiledGraph(version.graph)
        _GRAPH_CACHE[version_id] = graph
    return graph
