"""Geometry and CRS primitives that know nothing of planning."""

from .crs import choose_working_crs, gk3_zone_crs, to_crs
from .gcj02 import gcj02_to_wgs84, out_of_china, wgs84_to_gcj02
from .overlay import candidate_pairs, intersection_by_left, pairwise_intersection, prepare_cover
from .repair import repair_geometries
from .subdivide import subdivide
from .units import M2_PER_MU, m2_to_mu, mu_to_m2

__all__ = ["choose_working_crs", "gk3_zone_crs", "to_crs", "wgs84_to_gcj02", "gcj02_to_wgs84", "out_of_china",
           "candidate_pairs", "pairwise_intersection", "intersection_by_left", "prepare_cover", "repair_geometries",
           "subdivide", "M2_PER_MU", "m2_to_mu", "mu_to_m2"]
