"""Running the rules in several processes: local workers (``--jobs N``) or a dask cluster.

By rule (local workers, up to :data:`RULE_SPLIT_MAX_JOBS` of them)
------------------------------------------------------------------
* The rules are put in groups that share their costly intermediate results (:func:`rule_groups`: two rules
  whose dependencies share a rule or an intermediate other than one layer's cover pieces are in one group).
* Each group runs over the whole district in a forked worker (which reads the parent's district), largest
  group first; the findings are concatenated and sorted, each rule's notes put back in single-process order.

By village chunk (more local workers, and a dask cluster)
---------------------------------------------------------
* Villages are ordered along a Hilbert curve and cut into about ``jobs * 4`` *chunks* of neighbouring
  villages with about the same number of features each (:func:`partition_villages`).
* Every feature belongs to one village (its ``village_id``; a feature outside every village to the nearest
  one). A chunk's *region* is the union of the bounding boxes of its villages and of the features they own
  (roads and waters aside: they are context, never subjects, and often cross the district), each grown by a
  halo (:func:`halo_for`: 100 m, or twice the largest distance limit).
* A chunk's district (:func:`chunk_district`) holds every feature that meets the region (so each owned
  subject has all of its neighbours), the spanning layers (eco red line, nature reserves, protected zones)
  cut to the region, and the whole (small) villages layer. Nothing is copied per village.
* Rules whose ``scope`` is ``"village"`` (:class:`analyses.registry.Rule`) run on every chunk; a chunk keeps
  only the findings whose subject it owns. Rules whose scope is ``"district"`` (households and owners across
  villages, links by id, contiguous blocks) run once each on the whole district: in a worker of their own
  (local processes, which share the parent's district) or in this process (dask), while the chunks run.
* Findings are concatenated and sorted as :func:`analyses.run_rules` sorts them: the case ids, subjects and
  areas are those of a single-process run, however the district is split.
"""


from .cluster import run_rules_dask
from .groups import RULE_SPLIT_MAX_JOBS, rule_groups
from .jobs import SMALL_DISTRICT, default_jobs, district_rule_ids, resolve_jobs
from .partition import HALO_M, chunk_district, halo_for, partition_villages, reach_keys
from .pool import map_villages, run_rules_parallel
from .retry import run_rule_by_village

__all__ = ["HALO_M", "SMALL_DISTRICT", "default_jobs", "resolve_jobs", "partition_villages", "chunk_district",
           "halo_for", "reach_keys", "run_rules_parallel", "run_rules_dask", "district_rule_ids", "map_villages",
           "run_rule_by_village", "rule_groups", "RULE_SPLIT_MAX_JOBS"]
