"""Reference data for sample drops: organisations, post titles, area codes, phrase banks, and
the probability overlays put on the contracts' code lists.

Code lists themselves are never retyped here: ``choose`` reads them from the contract and only
lays weights on top. A weight keyed by a code the contract does not know raises at once, so a
renamed code cannot silently produce invalid "clean" data; a code the contract gains later
simply gets weight 0 until someone gives it one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache

import numpy as np
from faker.providers.person.zh_CN import Provider as FakerPerson
from faker.providers.ssn.zh_CN import Provider as FakerSsn

from pipelines.contracts import load_contract
from pipelines.ingest import idcard

CITY = "江城"  # the fictional prefecture-level city whose organisation department runs this
HOME_PROVINCE = "36"  # most cadres were born in the home province (area-code prefix)


@dataclass(frozen=True)
class Org:
    name: str
    sector: str  # a code of roster.sector
    head: str  # title of the head (局长, 主任, 董事长, ...)
    secretary: str  # party title held by the head (党组书记, 党委书记, ...)
    weight: float  # relative number of cadres
    code: str = ""


# (name, sector, head, secretary, weight). Sectors are validated against the roster contract.
_ORGS: tuple[tuple[str, str, str, str, float], ...] = (
    ("市委办公室", "党政机关", "主任", "机关党委书记", 1.0),
    ("市委组织部", "党政机关", "部长", "部务会成员", 1.0),
    ("市委宣传部", "党政机关", "部长", "部务会成员", 0.8),
    ("市委统战部", "党政机关", "部长", "部务会成员", 0.6),
    ("市委政法委员会", "党政机关", "书记", "委员", 0.7),
    ("市发展和改革委员会", "党政机关", "主任", "党组书记", 1.4),
    ("市财政局", "党政机关", "局长", "党组书记", 1.2),
    ("市教育局", "党政机关", "局长", "党组书记", 1.2),
    ("市公安局", "党政机关", "局长", "党委书记", 1.6),
    ("市民政局", "党政机关", "局长", "党组书记", 0.8),
    ("市人力资源和社会保障局", "党政机关", "局长", "党组书记", 1.0),
    ("市自然资源和规划局", "党政机关", "局长", "党组书记", 1.0),
    ("市生态环境局", "党政机关", "局长", "党组书记", 0.9),
    ("市住房和城乡建设局", "党政机关", "局长", "党组书记", 1.1),
    ("市交通运输局", "党政机关", "局长", "党组书记", 1.0),
    ("市水利局", "党政机关", "局长", "党组书记", 0.7),
    ("市农业农村局", "党政机关", "局长", "党组书记", 0.9),
    ("市商务局", "党政机关", "局长", "党组书记", 0.7),
    ("市文化广电新闻出版旅游局", "党政机关", "局长", "党组书记", 0.7),
    ("市卫生健康委员会", "党政机关", "主任", "党组书记", 1.1),
    ("市应急管理局", "党政机关", "局长", "党委书记", 0.7),
    ("市市场监督管理局", "党政机关", "局长", "党组书记", 1.0),
    ("市统计局", "党政机关", "局长", "党组书记", 0.5),
    ("市医疗保障局", "党政机关", "局长", "党组书记", 0.5),
    ("市行政审批局", "党政机关", "局长", "党组书记", 0.5),
    ("东湖区人民政府", "党政机关", "区长", "区委副书记", 1.5),
    ("西湖区人民政府", "党政机关", "区长", "区委副书记", 1.4),
    ("青山湖区人民政府", "党政机关", "区长", "区委副书记", 1.3),
    ("清河县人民政府", "党政机关", "县长", "县委副书记", 1.5),
    ("安平县人民政府", "党政机关", "县长", "县委副书记", 1.4),
    ("临川县人民政府", "党政机关", "县长", "县委副书记", 1.3),
    ("江城国有资本投资运营集团有限公司", "国有企业", "董事长", "党委书记", 1.2),
    ("江城城市建设投资集团有限公司", "国有企业", "董事长", "党委书记", 1.1),
    ("江城交通投资集团有限公司", "国有企业", "董事长", "党委书记", 1.0),
    ("江城水务集团有限公司", "国有企业", "董事长", "党委书记", 0.8),
    ("江城文化旅游发展集团有限公司", "国有企业", "董事长", "党委书记", 0.6),
    ("江城农业发展投资集团有限公司", "国有企业", "董事长", "党委书记", 0.6),
    ("市第一人民医院", "事业单位", "院长", "党委书记", 0.9),
    ("市中医院", "事业单位", "院长", "党委书记", 0.6),
    ("市疾病预防控制中心", "事业单位", "主任", "党委书记", 0.5),
    ("市公共资源交易中心", "事业单位", "主任", "党支部书记", 0.4),
    ("市广播电视台", "事业单位", "台长", "党委书记", 0.5),
    ("市社会科学院", "事业单位", "院长", "党组书记", 0.4),
    ("市不动产登记中心", "事业单位", "主任", "党支部书记", 0.4),
    ("江城大学", "高校", "校长", "党委书记", 1.2),
    ("江城师范学院", "高校", "院长", "党委书记", 0.8),
    ("江城职业技术学院", "高校", "院长", "党委书记", 0.7),
)

# Usual "other leading post" titles per sector (其他领导职务).
OTHER_TITLES: Mapping[str, tuple[str, ...]] = {
    "党政机关": ("党组成员", "机关党委书记", "总经济师", "总工程师", "派驻纪检监察组组长"),
    "国有企业": ("总会计师", "总工程师", "纪委书记", "工会主席", "总法律顾问"),
    "事业单位": ("总会计师", "纪委书记", "工会主席", "党委委员"),
    "高校": ("纪委书记", "总会计师", "工会主席", "党委常委"),
}

# Phrase banks for free text; the keys are inspection categories (validated in ``phrases``).
INSPECTION_PHRASES: Mapping[str, tuple[str, ...]] = {
    "政治建设": ("贯彻落实上级重大决策部署不到位，{topic}工作推进迟缓",
                 "党组（党委）理论学习中心组学习流于形式，{topic}研究不深入"),
    "不担当不作为": ("对群众反映强烈的{topic}问题推诿扯皮，长期未予解决",
                     "{topic}项目推进中遇到困难绕道走，导致项目停滞"),
    "形式主义官僚主义": ("{topic}工作层层发文、以文件落实文件",
                         "督查检查考核过多过频，{topic}台账重留痕轻实效"),
    "违反中央八项规定精神": ("违规发放{topic}相关津补贴",
                             "公务接待超标准，借{topic}名义列支餐费"),
    "选人用人": ("干部选拔任用程序不规范，{topic}岗位超职数配备",
                 "干部档案审核不严，{topic}相关材料缺失"),
    "廉洁风险": ("{topic}领域资金监管存在漏洞，内控制度执行不严",
                 "{topic}项目招投标监管缺位，存在围标串标风险"),
    "民主集中制": ("“三重一大”事项未经集体研究，{topic}决策由个人拍板",
                   "议事规则执行不严，{topic}事项会前酝酿不充分"),
    "其他": ("{topic}制度建设滞后，工作机制不健全",),
}
TOPICS: tuple[str, ...] = ("城市更新", "乡村振兴", "营商环境", "生态环境保护", "安全生产", "招商引资",
                           "政府投资项目", "民生实事", "财政专项资金", "国有资产管理", "教育医疗",
                           "防汛抗旱", "老旧小区改造", "数字政府建设")
TOLERANCE_BASES: tuple[str, ...] = (
    "经集体研究，属于推进改革中因缺乏经验出现的失误，依据“三个区分开来”予以容错免责",
    "系上级尚无明确规定时的探索性试验，未谋取私利，经市容错纠错工作领导小组认定予以免责",
    "决策程序合规、及时主动纠错并挽回损失，符合容错情形，予以免责",
)
REMARKS_UNDETERMINED: tuple[str, ...] = ("新任职不满半年，不定等次", "因病休假超过半年，不定等次",
                                        "交流任职不满半年，不定等次")


@cache
def orgs() -> tuple[Org, ...]:
    """The organisations, with a stable pseudo 统一社会信用代码 each, sectors validated."""
    sectors = set(load_contract("roster").field("sector").codes)
    prefix = {"党政机关": "11", "事业单位": "12", "高校": "12", "国有企业": "91"}
    out = []
    for i, (name, sector, head, secretary, weight) in enumerate(_ORGS):
        if sector not in sectors:
            raise ValueError(f"org {name}: sector {sector!r} not in the roster contract")
        code = f"{prefix.get(sector, '11')}360100{(i + 1) * 104729 % 10**9:09d}X"
        out.append(Org(name, sector, head, secretary, weight, code))
    return tuple(out)


@cache
def area_codes() -> tuple[np.ndarray, np.ndarray]:
    """County-level area codes (home province, elsewhere) from Faker's zh_CN table. A code the
    contract's ID check does not know (one of Faker's is not in its GB/T 2260 list) is
    replaced by the code before it, not dropped: the table keeps its length, so a seed draws
    the same codes it always did everywhere else (and the golden receipts stay as they are)."""
    county = [c for c in FakerSsn.area_codes if len(c) == 6 and c[4:] != "00"]
    for i, code in enumerate(county):
        if not idcard.area_known(code):
            county[i] = county[i - 1]
    county = np.array(county)
    home = np.array([c.startswith(HOME_PROVINCE) for c in county])
    return county[home], county[~home]


@cache
def name_tables() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(surnames, surname probabilities, male given names, female given names) from Faker."""
    surnames = np.array(list(FakerPerson.last_names.keys()))
    weights = np.array(list(FakerPerson.last_names.values()), dtype=float)
    return (surnames, weights / weights.sum(), np.array(FakerPerson.first_names_male),
            np.array(FakerPerson.first_names_female))


def phrases(bank: Mapping[str, tuple[str, ...]], source: str, field: str) -> None:
    """Raise if a phrase bank is keyed by a code the contract does not have."""
    codes = set(load_contract(source).field(field).codes)
    unknown = set(bank) - codes
    if unknown:
        raise ValueError(f"phrase bank keys not in {source}.{field}: {sorted(unknown)}")


def weights_for(source: str, field: str, weights: Mapping[str, float]) -> tuple[np.ndarray,
                                                                                np.ndarray]:
    """(codes, probabilities) for a contract code list with the given overlay.

    Codes come from the contract, in contract order; the overlay may only name codes the
    contract has; codes it does not name get probability 0.
    """
    codes = load_contract(source).field(field).codes
    if not codes:
        raise ValueError(f"{source}.{field} has no code list")
    unknown = set(weights) - set(codes)
    if unknown:
        raise ValueError(f"weights for {source}.{field} name unknown codes: {sorted(unknown)}")
    p = np.array([float(weights.get(c, 0.0)) for c in codes])
    if p.sum() <= 0:
        raise ValueError(f"weights for {source}.{field} are all zero")
    return np.array(codes, dtype=object), p / p.sum()


def choose(rng: np.random.Generator, source: str, field: str, weights: Mapping[str, float],
           size: int) -> np.ndarray:
    """``size`` codes of ``source.field`` drawn with the overlay ``weights``."""
    codes, p = weights_for(source, field, weights)
    return codes[rng.choice(len(codes), size=size, p=p)] if size else codes[:0]


def choose_given(rng: np.random.Generator, source: str, field: str, given: np.ndarray,
                 table: Mapping[str, Mapping[str, float]]) -> np.ndarray:
    """Codes drawn per row from the overlay selected by ``given`` (a conditional table).

    Rows whose ``given`` value has no entry in ``table`` get None.
    """
    out = np.full(len(given), None, dtype=object)
    for key, weights in table.items():
        rows = np.flatnonzero(given == key)
        if rows.size:
            out[rows] = choose(rng, source, field, weights, rows.size)
    return out


def check_codes(source: str, field: str, values: object) -> None:
    """Raise if any of ``values`` is not a code of ``source.field`` (for mapping tables)."""
    codes = set(load_contract(source).field(field).codes)
    unknown = set(values) - codes  # type: ignore[call-overload]
    if unknown:
        raise ValueError(f"values not in {source}.{field}: {sorted(unknown)}")
