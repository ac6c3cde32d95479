"""The rule catalogue of ``spec/RULES.md`` and the registry of the functions that implement it.

Every rule of the spec is listed here with its exact id, Chinese name, family and basis, whether or
not it is implemented yet; an analysis module registers its function with :func:`implements`.
A rule function takes ``(district, limits)`` and returns a partial findings frame (see
:func:`analyses.findings.finalise`); it never reads or writes files and never renders.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Callable

__all__ = ["Rule", "Intermediate", "CATALOGUE", "RULES", "INTERMEDIATES", "implements", "intermediate", "rules_of",
           "FAMILIES", "catalogue_order"]

#: Rule families and their Chinese names.
FAMILIES: dict[str, str] = {
    "farmland": "耕地“非农化”",
    "homestead": "宅基地",
    "setback": "相邻权益与退让",
    "siting": "公墓选址",
}

PG4 = "京平政发〔2021〕4号"
PGNF = "京平政办发〔2021〕1号"
MY6 = "密政办字〔2021〕6号"
MTG19 = "门政发〔2019〕19号"
MTG45 = "门政办发〔2019〕45号"


@dataclass(frozen=True)
class Rule:
    """One rule: its contract from ``spec/RULES.md`` and, once implemented, its function.

    Attributes
    ----------
    rule_id, name, family, basis : str
        Exactly as in ``spec/RULES.md``.
    inputs : tuple of str
        Roles the rule cannot run without (beyond the required ones); missing ones skip the rule.
    func : callable or None
        ``func(ctx) -> GeoDataFrame | RuleResult`` (see :mod:`analyses.context`); None while not implemented.
    uses : tuple of str
        Intermediate results (:data:`INTERMEDIATES`) and other rules (by id) whose findings the rule reads
        through ``ctx.used(name)``; the runner computes each once per run and passes it in.
    limits : tuple of str
        The configuration keys (:class:`layers.limits.Limits`) the rule reads, for the catalogue.
    scope : {"village", "district"}
        ``village``: a finding depends only on its subject and what lies near it, so the rule may run on one
        group of villages at a time (``landguard.run``); ``district``: it needs the whole district
        (households or owners across villages, links by id, contiguous blocks), so it runs once.
    """

    rule_id: str
    name: str
    family: str
    basis: str
    inputs: tuple[str, ...] = ()
    func: Callable | None = field(default=None, compare=False)
    scope: str = "village"
    uses: tuple[str, ...] = ()
    limits: tuple[str, ...] = ()


@dataclass(frozen=True)
class Intermediate:
    """A layer or result several rules share (farmland cover, buildings on farmland, road land …).

    ``func(ctx)`` computes it from the district and from the intermediates it ``uses``; the runner computes
    each one once per run (per chunk in parallel runs) and passes it to the rules that declare it.
    """

    name: str
    func: Callable = field(compare=False)
    uses: tuple[str, ...] = ()
    inputs: tuple[str, ...] = ()


_CATALOGUE = [
    Rule("FARM-BUILD", "乱占耕地建房", "farmland", f"{PGNF} 四(七)14; {PG4} 五(三)"),
    Rule("FARM-NONAGRI", "违规占用耕地从事非农建设", "farmland", f"{PGNF} 四(七)(八); {MY6} 三(五)(六)"),
    Rule("FARM-FACILITY", "大棚房 / 设施农用地非农使用", "farmland", f"{PGNF} 四(七)15"),
    Rule("FARM-GREEN", "违规占用耕地绿化造林", "farmland", f"{PGNF} 四(三)6; {MY6} 三(一)"),
    Rule("FARM-CORRIDOR", "超标准建设绿色通道", "farmland", f"{PGNF} 四(四)8; {MY6} 三(二)4"),
    Rule("FARM-LAKE", "违规占用耕地挖湖造景", "farmland", f"{PGNF} 四(五)10; {MY6} 三(三)7"),
    Rule("FARM-NONGRAIN", "耕地“非粮化”", "farmland", f"{PGNF} 四(九)18"),
    Rule("FARM-RESERVE", "占用永久基本农田扩大自然保护地", "farmland", f"{PGNF} 四(六)12; {MY6} 三(四)9"),
    Rule("FARM-REDLINE", "生态保护红线划定冲突", "farmland", f"{PGNF} 四(六)13; {MY6} 三(四)10", scope="district"),
    Rule("FARM-UNAPPROVED", "未批先用", "farmland", f"{PGNF} 四(八)16", scope="district"),
    Rule("FARM-OVERUSE", "批少占多", "farmland", f"{PGNF} 四(八)16", scope="district"),
    Rule("FARM-MISPLACED", "批甲占乙", "farmland", f"{PGNF} 四(八)16", scope="district"),
    Rule("FARM-TEMPEXPIRED", "临时用地超期", "farmland", f"{PGNF} 四(八)17"),
    Rule("FARM-CRIMINAL", "涉嫌犯罪移送", "farmland", f"{PGNF} 四(十一)24, 附件2 二(四)2", scope="district"),
    Rule("FARM-RS", "卫片图斑 (待核查)", "farmland", f"{PGNF} 三(四) “综合运用卫星遥感”", scope="district"),
    Rule("FARM-PATCH", "执法卫片图斑预判", "farmland", f"{PGNF} 三(四) “结合年度变更调查监测、执法卫片数据及动态巡查”"),
    Rule("FARM-DIG", "违规取土、压占耕地", "farmland",
         f"{PGNF} 四(一)2 “在耕地上违规建房、植树、取土、压占等行为及时预警”; 附件2 二(三)1"),
    Rule("FARM-SPACE", "耕地保护空间内非耕地", "farmland", f"{PGNF} 四(九)19; 附件2 二(二)2"),
    Rule("HOME-MULTI", "一户多宅", "homestead", f"{PG4} 一(二), 附件1 一(二)", scope="district"),
    Rule("HOME-OLD", "建新未拆旧 (变相一户多宅)", "homestead", f"{PG4} 五(二)4; 附件5 二", scope="district"),
    Rule("HOME-AREA", "宅基地超标准", "homestead", f"{PG4} 五(一); 七(二)1"),
    Rule("HOME-COVER", "礅基占地超比例", "homestead", f"{PG4} 五(二)2; 附件2 五(二)"),
    Rule("HOME-FLOORS", "超层数/地下室", "homestead", f"{PG4} 五(二)2; 附件2 五(三)"),
    Rule("HOME-HEIGHT", "超高", "homestead", f"{PG4} 附件2 五(四); {PG4} 五(二)2"),
    Rule("HOME-ROOF", "屋顶坡度不符", "homestead", f"{PG4} 附件2 五(四) “屋顶坡度为26—30度”"),
    Rule("HOME-STAIR", "楼梯间超标 / 局部三层", "homestead", f"{PG4} 附件2 五(五)"),
    Rule("HOME-APPROVED", "未按批准面积使用宅基地", "homestead",
         f"{PG4} 附件1 三(四)1 “按照批准面积、四至、层高要求使用宅基地”; {PG4} 五(三) “严禁未批先建和超面积”"),
    Rule("HOME-PLAN", "不符合村庄规划的宅基地", "homestead",
         f"{PG4} 附件5 二 “不符合分区规划、镇国土空间规划和村庄规划的宅基地，需纳入城乡建设用地减量范围”; "
         f"{PG4} 附件2 五(一) “村民建房要严格按照村庄规划进行”"),
    Rule("HOME-RELIC", "宅基地涉及文物保护范围", "homestead",
         f"{PG4} 二 “宅基地涉及文物保护范围及其他各类建设控制地带的，要按照有关规定报相关部门审批”"),
    Rule("HOME-MERGE", "相邻宅基地合建", "homestead", f"{PG4} 附件1 三(一); 附件5 二"),
    Rule("HOME-PBF", "宅基地占用永久基本农田", "homestead", f"{PG4} 二"),
    Rule("SET-OUTSIDE", "超出宅基地范围", "setback", f"{PG4} 附件2 五(二)"),
    Rule("SET-DRIP", "滴水距离不足", "setback", f"{PG4} 附件2 五(六)"),
    Rule("SET-REDLINE", "生态红线/蓝线内建设", "setback",
         f"{MTG45} 二(二)4 “村庄规划要保障安全…严守生态保护红线和河湖蓝线”"),
    Rule("SITE-CEMETERY", "公墓选址违规", "siting", f"{MTG19} 第七条"),
    Rule("SITE-LAND", "公墓占用耕地林地", "siting", f"{MTG19} 第七条 “充分利用荒山瘠地”, 第八条 “不得开山辟地，破坏生态环境”"),
    Rule("SITE-LEVEL", "公墓层级与布局不符", "siting", f"{MTG19} 第九条", scope="district"),  # counts per township
    Rule("SITE-APPROVAL", "公墓未批先建 / 擅自扩大", "siting", f"{MTG19} 第十七条, 第二十条 “不得擅自扩大建设范围”"),
    Rule("SITE-GREEN", "公墓绿化覆盖率不足", "siting", f"{MTG19} 第十九条"),
    Rule("SITE-GRAVE", "散坟乱葬", "siting", f"{MTG19} 第十一条 “清理整顿非法墓地”; {PGNF} 四(七)"),
]

#: The whole catalogue by rule id, implemented or not (read-only view of the spec).
CATALOGUE: dict[str, Rule] = {r.rule_id: r for r in _CATALOGUE}

#: Implemented rules by id, filled by :func:`implements` as analysis modules are imported.
RULES: dict[str, Rule] = {}

#: Shared intermediate results by name, filled by :func:`intermediate`.
INTERMEDIATES: dict[str, Intermediate] = {}


def intermediate(name: str, *, uses: tuple[str, ...] = ()) -> Callable[[Callable], Callable]:
    """Register ``func(ctx)`` as the shared intermediate ``name``.

    Examples
    --------
    >>> import analyses
    >>> "farmland_cover" in INTERMEDIATES
    True
    """
    def register(func: Callable) -> Callable:
        if name in INTERMEDIATES and INTERMEDIATES[name].func is not func:
            raise KeyError(f"intermediate {name!r} is registered twice")
        INTERMEDIATES[name] = Intermediate(name, func, tuple(uses))
        return func

    return register


def catalogue_order(rule_ids) -> "np.ndarray":
    """Each rule id's position in the catalogue (for sorting findings in spec order).

    Examples
    --------
    >>> catalogue_order(["HOME-MULTI", "FARM-BUILD"]).tolist()
    [18, 0]
    """
    import numpy as np
    import pandas as pd

    order = {r: i for i, r in enumerate(CATALOGUE)}
    return pd.Series(rule_ids, dtype=object).map(order).fillna(len(order)).to_numpy(dtype=int)


def implements(rule_id: str, *, inputs: tuple[str, ...] = (), uses: tuple[str, ...] = (),
               limits: tuple[str, ...] = (), scope: str | None = None) -> Callable[[Callable], Callable]:
    """Register ``func`` as the implementation of the catalogue rule ``rule_id``.

    Parameters
    ----------
    rule_id : str
        An id from :data:`CATALOGUE`.
    inputs : tuple of str
        Optional roles the rule needs; when one is missing the rule is skipped and the summary says so.
    uses : tuple of str
        Intermediates and rule ids the rule reads with ``ctx.used(name)``.
    limits : tuple of str
        Limit keys the rule reads with ``ctx.limit(key, village_ids)`` (``min_overlap_m2`` is implied).
    scope : {"village", "district"}, optional
        Overrides the catalogue's scope (see :class:`Rule`).

    Examples
    --------
    >>> import analyses
    >>> RULES["FARM-BUILD"].name
    '乱占耕地建房'
    """
    if rule_id not in CATALOGUE:
        raise KeyError(f"{rule_id!r} is not a rule of the catalogue (landguard rules; docs/rules.md)")

    def register(func: Callable) -> Callable:
        RULES[rule_id] = replace(CATALOGUE[rule_id], inputs=tuple(inputs), func=func, uses=tuple(uses),
                                 limits=tuple(dict.fromkeys(("min_overlap_m2", *limits))),
                                 scope=scope or CATALOGUE[rule_id].scope)
        return func

    return register


def rules_of(family: str | None = None) -> list[Rule]:
    """Catalogue rules (implemented or not) of one family, or all, in spec order.

    Examples
    --------
    >>> [r.rule_id for r in rules_of("siting")][:2]
    ['SITE-CEMETERY', 'SITE-LAND']
    """
    return [r for r in _CATALOGUE if family is None or r.family == family]
