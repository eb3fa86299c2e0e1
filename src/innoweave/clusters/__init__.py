"""Industrial clusters: where they are, how strong, who is inside, who brokers, who is left out.

* :mod:`~innoweave.clusters.specialisation` — location quotients, U.S. Cluster Mapping flags,
  European Cluster Observatory stars; :mod:`~innoweave.clusters.crosswalk` maps industry codes
  to cluster categories; :mod:`~innoweave.clusters.uscmp` checks the rules against published data.
* :mod:`~innoweave.clusters.relatedness` — related cluster categories as a weighted graph.
* :mod:`~innoweave.clusters.network` — collaboration-network communities, positions and
  policy targets from the registry.
* :mod:`~innoweave.clusters.spatial` — density-based spatial clusters of SMEs, GeoJSON.
* :mod:`~innoweave.clusters.pictures` — the map and network pictures the CLI saves;
  :mod:`~innoweave.clusters.labels` places their labels clear of each other.
"""

from innoweave.clusters.crosswalk import Crosswalk
from innoweave.clusters.inputs import ClusterInputError, InputReport
from innoweave.clusters.network import (
    CollaborationCommunities,
    CollaborationGraph,
    project_bipartite,
)
from innoweave.clusters.relatedness import ClusterRelatedness, read_related_clusters
from innoweave.clusters.spatial import SpatialClusters, haversine_km
from innoweave.clusters.specialisation import (
    REGISTRY_COLUMNS,
    USCMP_COLUMNS,
    ClusterStars,
    Columns,
    LocationQuotients,
    StrongClusters,
    registry_employment,
)
from innoweave.clusters.uscmp import read_uscmp, reproduce_uscmp

__all__ = [
    "REGISTRY_COLUMNS",
    "USCMP_COLUMNS",
    "ClusterInputError",
    "ClusterRelatedness",
    "ClusterStars",
    "CollaborationCommunities",
    "CollaborationGraph",
    "Columns",
    "Crosswalk",
    "InputReport",
    "LocationQuotients",
    "SpatialClusters",
    "StrongClusters",
    "haversine_km",
    "project_bipartite",
    "read_related_clusters",
    "read_uscmp",
    "registry_employment",
    "reproduce_uscmp",
]
