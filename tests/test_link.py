"""The link stage's groupings, one phrasing per rule (rules/link.yaml holds their cues):
a sentence goes through the real stages and the checks it yields are compared."""
from __future__ import annotations

from decimal import Decimal as D

import pytest

from pipeline.process import process_text
from pipeline.rules import load

RULES = load()


def checks(text: str, kind: str | None = None):
    r = process_text("t", text, RULES)
    return [c for c in r.checks if kind is None or c.kind == kind]


def ratio(text: str):
    got = [(c.verdict, c.numerator, c.denominator, c.reported, c.rule) for c in checks(text, "ratio")]
    return got


def sums(text: str):
    return [(c.verdict, c.reported, sorted(c.parts or []), c.rule) for c in checks(text, "sum")]


RATIOS = [
    # R1: the project's target in its heading, the count before the rate
    ("1.新建60个日间照料中心项目。市民政局牵头实施。截至9月底,已完工49个,完成率82%。",
     ("consistent", D(49), D(60), D(82), "ratio.completion")),
    # R1: the raised target, not the province's
    ("3.继续实施全民技能提升工程。省里下达我市的任务是10万人,我市将培训人数提高到20万人。截至9月底,已培训182823人,完成率91.4%。",
     ("consistent", D(182823), D(200000), D("91.4"), "ratio.completion")),
    # R1: a hedged count allows an interval (47000余 of 35000 -> 134.29%..137.14%)
    ("2.实施免费法律咨询便民服务。省里下达我市的任务是:为群众免费提供法律咨询服务35000人次。截至9月底,已提供服务47000余件,完成率135%。",
     ("consistent", D(47000), D(35000), D(135), "ratio.completion")),
    # R1 with the goal in the rate's own clause
    ("全市城镇新增就业6.12万人,完成省下达目标任务5.5万人的111.3%。",
     ("consistent", D(61200), D(55000), D("111.3"), "ratio.completion")),
    # the target in a bracket after the rate
    ("(七)残疾人保障类。为0—6岁残疾儿童实施康复救助1360名,完成率113.3%(省下达任务1200名)。",
     ("consistent", D(1360), D(1200), D("113.3"), "ratio.completion")),
    # a real error: 7988/6125 = 130.42%
    ("①为6125名疑似残疾人提供残疾评定服务工作项目,已服务7988名,完成率130.52%。",
     ("inconsistent", D(7988), D(6125), D("130.52"), "ratio.completion")),
    # R2: money against the plan amount of the same section
    ("安排资金总额39.2亿元,同比增长9.5%。资金预算已执行36亿元,占全年计划的91.8%。",
     ("consistent", D(3600000000), D(3920000000), D("91.8"), "ratio.money_plan")),
    # R2: the plan the 占 phrase names, not the nearer plan-cued part of it
    ("十件实事计划总投资20.8亿元,其中争取中央和省级资金8.3亿元,市县两级财政安排10.9亿元,引导社会资金1.6亿元。"
     "截至9月30日,十件实事累计完成投资15.91亿元,占计划总投资的76.5%。",
     ("consistent", D(1591000000), D(2080000000), D("76.5"), "ratio.money_plan")),
    # R2: the plan stated just before the rate, the amount spent earlier in the paragraph
    ("全市民生工程累计投入资金68.42亿元,其中中央资金38.15亿元、省级资金14.36亿元、市级资金6.83亿元、县级资金9.18亿元。"
     "全年民生工程资金计划70.5亿元,资金执行率97.0%。",
     ("consistent", D(6842000000), D(7050000000), D("97.0"), "ratio.money_plan")),
    # R3: 50件…中48件…,占比96%
    ("50件民生实事项目中48件上半年推进达序时要求,占比96%。",
     ("consistent", D(48), D(50), D(96), "ratio.share_of_total")),
    # R4: a share of a whole named by words stated elsewhere
    ("本年支出合计9759.38万元。一般公共预算财政拨款支出9746.50万元,占本年支出合计的99.86%。",
     ("consistent", D("97465000"), D("97593800"), D("99.86"), "ratio.share_of_named")),
    # the whole written inside the 占 phrase: 18.6/22.4 = 83.04%, not 81.2
    ("全年民生支出18.6亿元,占一般公共预算支出22.4亿元的81.2%。",
     ("inconsistent", D(1860000000), D(2240000000), D("81.2"), "ratio.share_of_named")),
    # the 占 phrase's whole after a 其中 list: the share is of the list's total, not its last part
    ("全年投入就业补助资金3.25亿元,其中中央资金2.31亿元、省级资金0.52亿元、市级资金0.18亿元、县级资金0.24亿元,占年初预算3.40亿元的95.8%。",
     ("consistent", D(325000000), D(340000000), D("95.8"), "ratio.share_of_named")),
    # a progress table's row
    ("序号\t项目名称\t年度目标\t截至9月底完成\t完成率\n1\t改造提升农贸市场\t30个\t22个\t73.3%\n",
     ("consistent", D(22), D(30), D("73.3"), "ratio.table_row")),
    # a bracketed aside between the count and its 占 phrase, the whole named by its head noun
    ("市政府共办理代表意见建议57件,其中城建方面18件,其它方面39件。已经解决或基本解决的43件(甲类),占建议总数的75.4%。",
     ("consistent", D(43), D(57), D("75.4"), "labelled")),
    # the count is its clause's subject and 占 opens the next clause; 个 and 项 both count projects
    ("市政府安排了10件、23项实事项目。从完成情况看,有16个项目超额完成年初制订的目标任务,占总数的69.6%。",
     ("consistent", D(16), D(23), D("69.6"), "paragraph")),
    # the 占 clause's subject is the name its count was stated under: a real error
    ("今年1-4月,全区一般公共预算支出1091.71亿元,同比增长10.1%;其中民生支出完成868.04亿元,同比增长5.6%,民生支出占一般公共预算支出的比重达79.1%。",
     ("inconsistent", D("86804000000"), D("109171000000"), D("79.1"), "ratio.share_of_named")),
    # a part of an exact breakdown (135 = 128 + 4 + 3) keeps its own share
    ("大会提案组共收到提案135件,经审查立案128件,占提案总数的95%;未予立案4件,占提案总数的3%;作为意见建议转相关部门处理3件。",
     ("consistent", D(128), D(135), D(95), "labelled")),
    # a sentence that opens by naming its whole (在立案的提案中,) holds shares of the figure stated
    # under that very name (立案174件, not 实际立案72件): a real error, the shares are of 171
    ("市政协共收到提案235件。经审查,立案174件,并案140件,实际立案72件,转为意见建议64件。\n在立案的提案中,委员个人提交100件,占58.40%,委员联名提交68件,占39.80%,集体提案3件,占1.80%。",
     ("inconsistent", D(100), D(174), D("58.40"), "ratio.share_of_named")),
]


@pytest.mark.parametrize("text,want", RATIOS, ids=[w[4] + f"-{i}" for i, (_, w) in enumerate(RATIOS)])
def test_ratio_groups(text, want):
    got = ratio(text)
    assert any(g[:4] == want[:4] and g[4] == want[4] for g in got), got


@pytest.mark.parametrize("text,reason", [
    # a rate with no target anywhere in its project
    ("截至11月底,全市保障性安居工程已开工建设7294套,开工率108%。", "no target"),
    # a share of a whole that is not stated as a figure
    ("1-5月份全市民生支出248.2亿元,增长3.6%,占财政支出比重达81.4%。", "not stated"),
    # a plan of another topic in the same heading: 5处 schools is not the plan of 109 schemes
    ("(一)特殊群体关爱服务保障方面。2019年计划新建、改扩建5处特殊教育学校;加大产业扶贫项目推进力度,已完成方案编制109个,占年度计划实施项目的87%。", ""),
])
def test_ratio_without_its_counts_is_unverifiable(text, reason):
    got = checks(text, "ratio")
    assert got and all(c.verdict == "unverifiable" for c in got), [(c.verdict, c.numerator, c.denominator) for c in got]
    assert reason in got[0].reason


# a breakdown whose items restate the whole's labels (sum.parallel)
PARALLEL = ("投资项目5132个,总投资23395亿元,年度投资4910亿元。其中新开工项目2191个,总投资15237亿元,年度投资"
            "1460亿元;续建项目1999个,总投资5594亿元,年度投资2344亿元;投产项目942个,总投资2164亿元,年度投资1106亿元。")

SUMS = [
    # S1 with 各 expansion and a remainder
    ("全市今年新建任务是48个,其中,中心城区新建20个,永济、河津各新建4个,平陆、运城开发区各新建1个,其它9县各新建2个,盐湖区没有任务。",
     ("consistent", D(48), sorted([D(20), D(4), D(4), D(1), D(1)] + [D(2)] * 9), "sum.breakdown")),
    # S1 with a parenthesis
    ("还有21座公厕(中心城区20个,运城开发区1个)在办理前期手续。", ("consistent", D(21), [D(1), D(20)], "sum.breakdown")),
    # S2: parts, then 共计
    ("其中,免费送戏下乡项目1060万元、法律咨询服务325万元和小街小巷改造项目的资金8613.21万元全部到位,共计9998.21万元。",
     ("consistent", D("99982100"), sorted([D(10600000), D(3250000), D("86132100")]), "sum.total_after_parts")),
    # S3: a list after 中 that runs on past its total
    ("承接省里实施的8件民生实事中,2件提前并超额完成;6件民生实事正常推进;市政府另外实施的2件民生实事进展缓慢。",
     ("consistent", D(8), [D(2), D(6)], "sum.total_then_parts")),
    # S4: a status partition against the project's target
    ("1.实施小街小巷改造提升工程。全市今年计划改造221条。截至9月底,已完工98条,完工率44%;正在施工76条;未开工47条。",
     ("consistent", D(221), [D(47), D(76), D(98)], "sum.status_partition")),
    # S4 with a bare 完成 and a remainder after the rate
    ("(五)住房保障类。城镇老旧小区改造计划62个,完成57个,完成率92.9%,其余5个因冬季停工顺延至2020年。",
     ("consistent", D(62), [D(5), D(57)], "sum.status_partition")),
    # each places' figure, then 共
    ("(六)关于养老服务。计划在涪城区、游仙区、江油市各新建2个社区养老服务综合体,共6个。",
     ("consistent", D(6), [D(2), D(2), D(2)], "sum.total_after_parts")),
    # S5: sub-items against the project's title, with 分3个子项目: a real error (7290)
    ("1.实施7285名残疾儿童康复项目。市残联牵头实施,分3个子项目,截至9月底:①为300名儿童提供复筛服务项目,已诊断389名;②为6125名疑似残疾人提供评定服务项目,已服务7988名;③为865名残疾儿童提供康复服务项目,已服务929名。",
     ("inconsistent", D(7285), [D(300), D(865), D(6125)], "sum.subitems")),
    # S8: an anaphoric total
    ("在全面承接省政府确定的8件民生实事的同时,再实施2件民生实事。为了确保该10件民生实事有序推进,现印发给你们。",
     ("consistent", D(10), [D(2), D(8)], "sum.anaphoric_total")),
    # a split by paying level is exhaustive
    ("项目共落实资金5.43亿元,其中中央补助资金3.2亿元、省级补助资金0.68亿元、市级配套资金1.45亿元。",
     ("inconsistent", D(543000000), sorted([D(320000000), D(68000000), D(145000000)]), "sum.breakdown")),
    # places do not overlap: more than the total is an error even without a remainder
    ("(三)新增城区停车泊位8000个。其中红花岗区、汇川区各3000个,新蒲新区2500个。",
     ("inconsistent", D(8000), [D(2500), D(3000), D(3000)], "sum.breakdown")),
    # 分别为 names every part: 168 + 215 + 209 = 592, not 612
    ("农村公路共计612公里,分别为县道改造168公里、乡道改造215公里、村道提升209公里。",
     ("inconsistent", D(612), [D(168), D(209), D(215)], "sum.breakdown")),
    # money by paying level runs on past a comma while new levels come
    ("工程资金到位57300万元,其中中央资金21000万元、省级资金14500万元已全部到位,市级资金到位4800万元,县级资金到位12600万元,社会资本到位4400万元。",
     ("consistent", D(573000000), sorted([D(210000000), D(145000000), D(48000000), D(126000000), D(44000000)]), "sum.breakdown")),
    # a count of places is not the total of a breakdown by place
    ("186件工程分布在全市9个县(市、区),其中会泽县42件、宣威市38件、麒麟区106件。",
     ("consistent", D(186), [D(38), D(42), D(106)], "sum.breakdown")),
    # S1 parallel: each item of the 其中 list restates the whole's labels; 年度投资 adds up
    # exactly, so the list is whole and 总投资 (22995 against 23395) is an error of the text
    (PARALLEL,
     ("inconsistent", D(2339500000000), sorted([D(1523700000000), D(559400000000), D(216400000000)]), "sum.parallel")),
    (PARALLEL,
     ("consistent", D(491000000000), sorted([D(146000000000), D(234400000000), D(110600000000)]), "sum.parallel")),
    # a colon right after the total's noun opens its parts
    ("为民办实事项目共有27个大项:民生事业补短板类11项,实施乡村振兴战略类6项,城乡建设和生态环保补短板类10项。",
     ("consistent", D(27), [D(6), D(10), D(11)], "sum.breakdown")),
    # a whole whose breakdown opens the next sentence (立案799件。其中:…) is stated as a whole,
    # so a later run of figures that adds up to it exactly is a partition of it
    ("共提出提案820件,经审查,立案799件。其中:集体提案133件,委员个人或联名提案666件。\n截至11月底所有提案已全部办结。办理结果为A类418件,占52.3%;B类265件,占33.2%;C类116件,占14.5%。",
     ("consistent", D(799), [D(116), D(265), D(418)], "sum.partition")),
    # the breakdown opens the next sentence with 主要涉及, the total in a bracket with its share
    ("1.住房保障类(793件,占比17.36%)。主要涉及物业管理390件、房屋建设226件、房产交易138件、拆迁改造21件、保障性住房17件、人防工程1件。",
     ("consistent", D(793), [D(1), D(17), D(21), D(138), D(226), D(390)], "sum.breakdown")),
    # a 合计 row against the rows above it
    ("县(市、区)\t任务数(处)\t已完工(处)\n麒麟区\t4\t3\n沾益区\t5\t4\n马龙区\t3\t2\n合计\t12\t10\n",
     ("inconsistent", D(10), [D(2), D(3), D(4)], "sum.table_total_row")),
]


@pytest.mark.parametrize("text,want", SUMS, ids=[w[3] + f"-{i}" for i, (_, w) in enumerate(SUMS)])
def test_sum_groups(text, want):
    got = sums(text)
    assert any(g[0] == want[0] and g[1] == want[1] and g[2] == want[2] and g[3] == want[3] for g in got), got


@pytest.mark.parametrize("text", [
    # a 其中 list of subsets, not a partition: no verdict
    ("完成筛查35262人,完成率80.14%;其中,存在高风险孕妇2320人,已转院诊断2133人。"),
    # a partial list of categories
    ("全市新增就业3.5万人,其中,高校毕业生1.2万人,就业困难人员0.5万人。"),
    # a parallel list where no label adds up: it may name only some items
    ("全市项目100个,总投资50亿元,年度投资20亿元。其中重点项目20个,总投资30亿元,年度投资8亿元;民生项目30个,总投资10亿元,年度投资5亿元。"),
    # the intro announces 10 parts and the text gives two (a page cut short)
    ("一、总体情况\n全市十件民生实事涉及就业、教育等10个方面,年度投资目标5.79亿元。\n(一)保障就业。年度投资目标15495万元,完成投资2513万元。\n(二)加强教育。年度投资目标19291万元,完成投资5370万元。\n"),
    # rows that add to less than the title: a place may be missing
    ("分解表\n序号\t工作任务\t县区\n3\t为44400名妇女进行免费检查服务项目\t平陆县:11900名\n\t\t万荣县:10000名\n\t\t垣曲县:3500名\n"),
])
def test_no_false_alarm_on_partial_lists(text):
    bad = [c for c in checks(text) if c.verdict == "inconsistent"]
    assert not bad, [(c.kind, c.reported, c.parts, c.rule) for c in bad]


def test_a_total_row_that_heads_its_table_sums_the_rows_below():
    from pipeline.process import process
    from pipeline.rules import load
    text = "地区\t目标\t已完成\n全市\t500\t610\n甲县\t300\t360\n乙县\t200\t250\n"
    checks = process("a.txt", "a.txt", text.encode("utf-8"), load()).checks
    sums = {(c.reported, tuple(c.parts), c.verdict) for c in checks if c.kind == "sum"}
    assert (D(500), (D(300), D(200)), "consistent") in sums
    assert (D(610), (D(360), D(250)), "consistent") in sums


def test_a_sums_reason_reads_in_the_scale_of_its_total():
    text = ("项目共落实资金5.43亿元,其中中央补助资金3.2亿元、省级补助资金0.68亿元、"
            "市级配套资金1.45亿元。")
    bad = [c for c in checks(text, "sum") if c.verdict == "inconsistent"]
    assert [c.reason for c in bad] == ["the parts add up to 5.33亿元, not 5.43亿元"]
