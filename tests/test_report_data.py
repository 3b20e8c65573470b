"""A small hand-made run folder that follows CONTRACT.md, for the post-run tests
(report, export, compare). Offsets are computed from the texts, so they are real."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

TEXT_YC = (
    "运城市人民政府关于2019年承诺民生实事办理情况的报告\n"
    "一、2019年1-9月10件民生实事进展情况\n"
    "1.实施7285名残疾儿童预防重点干预和残疾儿童抢救性康复项目。市残联牵头实施,分3个子项目,截至9月底:"
    "①为300名初筛阳性0-6岁儿童提供复筛和残疾诊断服务项目,已诊断出389名残疾儿童,完成率129.67%;"
    "②为6125名疑似残疾人提供残疾评定服务工作项目,已服务7988名,完成率130.52%;"
    "③为865名残疾儿童提供抢救性康复服务项目,已服务929名,完成率107.4%。\n"
    "5.为44400名贫困县妇女进行免费“两癌”检查服务项目。市妇儿办牵头实施。截至9月底,"
    "免费检查宫颈癌39992人,完成率90.07%;免费检查乳腺癌40047人,完成率90.12%。\n"
    "1.实施中心城区和各县城小街小巷改造提升工程。全市今年计划改造221条。截至9月底,已完工98条,完工率44%。\n"
    "<script>alert(1)</script>\n"
)
TEXT_NOTICE = (
    "运城市人民政府办公室 关于做好2019年市政府实施的10件民生实事的通知\n"
    "9\t实施中心城区和各县城小街小巷改造提升工程\t盐湖区：160条\n"
    "\t\t永济市：2条\n"
)
TEXT_LY = (
    "临沂市20项重点民生实事进展情况报告\n"
    "加大产业扶贫项目推进力度,已完成方案编制109个,占年度计划实施项目的87%。\n"
    "全市城镇幼儿园已开工建设80处,完工18处。\n"
)

DOCS = {"000_yc.txt": TEXT_YC, "002_notice.txt": TEXT_NOTICE, "003_ly.txt": TEXT_LY}


def span(text: str, needle: str, after: int = 0) -> tuple[int, int]:
    i = text.index(needle, after)
    return i, i + len(needle)


def sentence(text: str, needle: str) -> tuple[str, int, int]:
    """The sentence (up to ; 。 or newline) that holds needle."""
    i = text.index(needle)
    s = max(text.rfind(c, 0, i) for c in ";。\n:") + 1
    e = min([j for j in (text.find(c, i) for c in ";。\n") if j != -1])
    return text[s:e + 1], s, e + 1


def fact(doc: str, kind: str, value: float, unit: str | None, needle: str, project: str,
         after: int = 0, **extra: Any) -> dict[str, Any]:
    s, e = span(DOCS[doc], needle, after)
    return {"doc": doc, "kind": kind, "value": value, "unit": unit, "approx": False,
            "text": needle, "start": s, "end": e, "project": project, "level": None,
            "percent_kind": "completion" if kind == "percent" else None, "sub_item": None,
            "place": extra.pop("place", None), "direction": None, "rule": "test", **extra}


def ratio(doc: str, num_text: str, den_text: str, pct_text: str, num: float, den: float,
          reported: float, computed: float, verdict: str, project: str) -> dict[str, Any]:
    t = DOCS[doc]
    ev, s, e = sentence(t, pct_text)
    # the evidence of a sub-item ratio is its whole ①...; clause
    s = min(s, t.rfind(den_text, 0, t.index(pct_text)))
    ev = t[s:e]
    figs = [span(t, den_text, s), span(t, num_text, s), span(t, pct_text, s)]
    return {"doc": doc, "kind": "ratio", "verdict": verdict, "reported": reported,
            "computed": computed, "numerator": num, "denominator": den, "evidence": ev,
            "start": s, "end": e, "project": project, "rule": "completion_ratio",
            "reason": "" if verdict == "consistent" else f"{num:g}/{den:g} = {computed}%",
            "discrepancy": round(abs(reported - computed), 2), "figures": [list(f) for f in figs]}


def make_out(root: Path) -> Path:
    """Write the run folder; return its path."""
    out = root / "out"
    (out / "texts").mkdir(parents=True)
    for name, text in DOCS.items():
        (out / "texts" / f"{name}.txt").write_text(text, encoding="utf-8")
    yc, nt, ly = "000_yc.txt", "002_notice.txt", "003_ly.txt"
    documents = [
        {"doc": yc, "status": "ok", "error": None, "format": "txt", "script": "simplified",
         "city": "运城市", "province": "山西省", "year": 2019, "period_end": "2019-09-30"},
        {"doc": nt, "status": "ok", "error": None, "format": "txt", "script": "simplified",
         "city": "运城市", "province": "山西省", "year": 2019, "period_end": None},
        {"doc": ly, "status": "ok", "error": None, "format": "html", "script": "simplified",
         "city": "临沂市", "province": "山东省", "year": 2019, "period_end": "2019-05-31"},
        {"doc": "broken.pdf", "status": "failed", "error": "the PDF is encrypted: ask the publisher for an open copy",
         "format": "pdf", "script": None, "city": None, "province": None, "year": None,
         "period_end": None},
    ]
    p_dis = "实施7285名残疾儿童预防重点干预和残疾儿童抢救性康复项目"
    p_lc = "为44400名贫困县妇女进行免费“两癌”检查服务项目"
    p_xj = "实施中心城区和各县城小街小巷改造提升工程"
    facts = [
        fact(yc, "target", 7285, "名", "7285名", p_dis),
        fact(yc, "target", 300, "名", "300名", p_dis),
        fact(yc, "actual", 389, "名", "389名", p_dis),
        fact(yc, "percent", 129.67, "%", "129.67%", p_dis),
        fact(yc, "target", 6125, "名", "6125名", p_dis),
        fact(yc, "actual", 7988, "名", "7988名", p_dis),
        fact(yc, "percent", 130.52, "%", "130.52%", p_dis),
        fact(yc, "target", 865, "名", "865名", p_dis),
        fact(yc, "target", 44400, "名", "44400名", p_lc),
        fact(yc, "actual", 40047, "人", "40047人", p_lc),
        fact(yc, "percent", 90.12, "%", "90.12%", p_lc),
        fact(yc, "target", 221, "条", "221条", p_xj),
        fact(yc, "actual", 98, "条", "98条", p_xj),
        fact(nt, "target", 160, "条", "160条", p_xj, place="盐湖区"),
        fact(nt, "target", 2, "条", "2条", p_xj, place="永济市"),
        fact(ly, "count", 109, "个", "109个", "加大产业扶贫项目推进力度"),
        fact(ly, "percent", 87, "%", "87%", "加大产业扶贫项目推进力度"),
        fact(ly, "actual", 18, "处", "18处", "全市城镇幼儿园"),
    ]
    t = TEXT_YC
    sum_ev, s0, _ = sentence(t, "7285名")
    s_end = t.index("107.4%。") + len("107.4%。")
    checks = [
        ratio(yc, "389名", "300名", "129.67%", 389, 300, 129.67, 129.67, "consistent", p_dis),
        ratio(yc, "7988名", "6125名", "130.52%", 7988, 6125, 130.52, 130.42, "inconsistent", p_dis),
        ratio(yc, "40047人", "44400名", "90.12%", 40047, 44400, 90.12, 90.2, "inconsistent", p_lc),
        {"doc": yc, "kind": "sum", "verdict": "inconsistent", "reported": 7285, "computed": 7290,
         "parts": [300, 6125, 865], "evidence": t[s0:s_end], "start": s0, "end": s_end,
         "project": p_dis, "rule": "sub_items_sum", "reason": "300+6125+865 = 7290",
         "discrepancy": 5,
         "figures": [list(span(t, x)) for x in ("7285名", "300名", "6125名", "865名")]},
        {"doc": yc, "kind": "schedule", "verdict": "behind", "reported": 44, "computed": 75,
         "evidence": sentence(t, "完工率44%")[0], "start": sentence(t, "完工率44%")[1],
         "end": sentence(t, "完工率44%")[2], "project": p_xj, "rule": "schedule_elapsed",
         "reason": "44% done with 75% of the year elapsed", "discrepancy": 31,
         "figures": [list(span(t, "44%"))], "elapsed_pct": 75},
        {"doc": nt, "kind": "cross_doc", "verdict": "inconsistent", "reported": 186, "computed": 221,
         "evidence": f"{nt}: 盐湖区：160条 …\n{yc}: 全市今年计划改造221条", "start": TEXT_NOTICE.index("盐湖区"),
         "end": len(TEXT_NOTICE) - 1, "project": p_xj, "rule": "cross_doc_target",
         "reason": "186 条 vs 221 条", "discrepancy": 35,
         "figures": [list(span(TEXT_NOTICE, "160条")), list(span(TEXT_NOTICE, "2条"))],
         "doc_b": yc, "target_b": 221, "project_b": p_xj, "start_b": sentence(t, "221条")[1],
         "end_b": sentence(t, "221条")[2], "figures_b": [list(span(t, "221条"))]},
        {"doc": ly, "kind": "ratio", "verdict": "unverifiable", "reported": 87, "computed": None,
         "numerator": 109, "denominator": None, "evidence": sentence(TEXT_LY, "87%")[0],
         "start": sentence(TEXT_LY, "87%")[1], "end": sentence(TEXT_LY, "87%")[2],
         "project": "加大产业扶贫项目推进力度", "rule": "completion_ratio",
         "reason": "the plan's count is not stated", "discrepancy": None,
         "figures": [list(span(TEXT_LY, "87%"))]},
    ]
    records = [
        {"doc": yc, "city": "运城市", "province": "山西省", "year": 2019, "period_end": "2019-09-30",
         "project": p_dis, "sub_item": "为6125名疑似残疾人提供残疾评定服务工作项目",
         "category": "社会保障", "indicator": "服务人数", "unit": "名", "target": 6125, "actual": 7988,
         "reported_pct": 130.52, "computed_pct": 130.42, "verdict": "inconsistent",
         "amount_yuan": None, "lead_unit": "市残联", "evidence": checks[1]["evidence"],
         "start": checks[1]["start"], "end": checks[1]["end"]},
        {"doc": yc, "city": "运城市", "province": "山西省", "year": 2019, "period_end": "2019-09-30",
         "project": p_lc, "sub_item": None, "category": "医疗卫生", "indicator": "检查人数",
         "unit": "人", "target": 44400, "actual": 40047, "reported_pct": 90.12,
         "computed_pct": 90.2, "verdict": "inconsistent", "amount_yuan": 5683200,
         "lead_unit": "市妇儿办", "evidence": checks[2]["evidence"], "start": checks[2]["start"],
         "end": checks[2]["end"]},
        {"doc": yc, "city": "运城市", "province": "山西省", "year": 2019, "period_end": "2019-09-30",
         "project": p_xj, "sub_item": None, "category": "城市建设", "indicator": "改造条数",
         "unit": "条", "target": 221, "actual": 98, "reported_pct": 44, "computed_pct": 44.34,
         "verdict": "consistent", "amount_yuan": 86132100, "lead_unit": "市住建局",
         "evidence": sentence(t, "221条")[0], "start": sentence(t, "221条")[1],
         "end": sentence(t, "221条")[2]},
        {"doc": nt, "city": "运城市", "province": "山西省", "year": 2019, "period_end": None,
         "project": p_xj, "sub_item": None, "category": "城市建设", "indicator": "改造条数",
         "unit": "条", "target": 186, "actual": None, "reported_pct": None, "computed_pct": None,
         "verdict": None, "amount_yuan": None, "lead_unit": "市住房和城乡建设局",
         "evidence": TEXT_NOTICE.splitlines()[1], "start": TEXT_NOTICE.index("9\t"),
         "end": TEXT_NOTICE.index("9\t") + len(TEXT_NOTICE.splitlines()[1])},
        {"doc": ly, "city": "临沂市", "province": "山东省", "year": 2019, "period_end": "2019-05-31",
         "project": "全市城镇幼儿园", "sub_item": None, "category": "教育", "indicator": "建设处数",
         "unit": "处", "target": 80, "actual": 18, "reported_pct": None, "computed_pct": 22.5,
         "verdict": None, "amount_yuan": None, "lead_unit": None,
         "evidence": sentence(TEXT_LY, "18处")[0], "start": sentence(TEXT_LY, "18处")[1],
         "end": sentence(TEXT_LY, "18处")[2]},
    ]
    for name, rows in (("documents", documents), ("facts", facts), ("checks", checks),
                       ("records", records)):
        with (out / f"{name}.jsonl").open("w", encoding="utf-8") as fh:
            for r in rows:
                fh.write(json.dumps(r, ensure_ascii=False) + "\n")
    return out


def test_fixture_offsets_are_real(tmp_path: Path) -> None:
    out = make_out(tmp_path)
    for line in (out / "facts.jsonl").read_text(encoding="utf-8").splitlines():
        f = json.loads(line)
        text = (out / "texts" / f"{f['doc']}.txt").read_text(encoding="utf-8")
        assert text[f["start"]:f["end"]] == f["text"]
    for line in (out / "checks.jsonl").read_text(encoding="utf-8").splitlines():
        c = json.loads(line)
        text = (out / "texts" / f"{c['doc']}.txt").read_text(encoding="utf-8")
        for s, e in c["figures"]:
            assert c["start"] <= s < e <= c["end"], (c["kind"], c["evidence"])


def q(root: Any, path: str) -> list[Any]:
    """A tiny CSS-ish selector on lxml (cssselect is not a dependency): space-separated
    steps of `tag`, `tag.class`, `#id` or `tag[attr]`, each a descendant of the last."""
    xp = "."
    for step in path.split():
        if step.startswith("#"):
            xp += f"//*[@id='{step[1:]}']"
            continue
        attr = None
        if "[" in step:
            step, attr = step[:-1].split("[", 1)
        tag, _, cls = step.partition(".")
        xp += f"//{tag or '*'}"
        if cls:
            xp += f"[contains(concat(' ', normalize-space(@class), ' '), ' {cls} ')]"
        if attr:
            xp += f"[@{attr}]"
    return root.xpath(xp)
