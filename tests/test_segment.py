"""pipeline/segment.py: the heading tree, inline sections, tables, boilerplate and scopes.

One sample report (DOC) exercises every label kind; each test asserts levels, parents,
titles and exact spans (text[start:end]) of what segment() builds from it.
"""
from __future__ import annotations

import pytest

from pipeline.normalize import normalize
from pipeline.rules import load
from pipeline.segment import Layout, segment

CONF = load().extra["segment"]

DOC = (
    "关于2019年民生实事进展情况的通报\n"                      # 0
    "一、总体情况。全年10件民生实事进展顺利。\n"
    "（一）教育事业。新建幼儿园3所。\n"
    "1.新建幼儿园。计划新建3所，已完成2所。\n"
    "①城区幼儿园。完成1所。\n"
    "②农村幼儿园。完成1所。\n"
    "2.改造校舍。改造校舍10所，①城区5所，②农村5所。\n"
    "（二）医疗卫生。一是建设卫生院，完成8个；二是培训医生，完成200名。\n"
    "二、社会保障\n"
    "全市新增就业389人，完成年度目标300人的129.67%；其中城镇3人。下一句。\n"
    "表1 2019年民生实事进度表（单位：万元）\n"
    "序号\t项目名称\t年度目标\t完成\t完成率\n"
    "1\t城镇新增就业\t300\t389\t129.67%\n"
    "2\t棚户区改造\t6125\t7988\t130.42%\n"
    "\n"
    "三、下一步工作\n"
    "继续推进。\n"
    "当前位置：首页 > 政务公开\n"
    "【关闭窗口】\n"
    "相关文章：\n"
    "关于印发某某的通知\n"
)


@pytest.fixture(scope="module")
def lay() -> Layout:
    return segment(DOC, CONF)


def at(s: str, after: str = "") -> int:
    """Offset of s in DOC (after the first occurrence of `after`)."""
    return DOC.index(s, DOC.index(after) if after else 0)


def span(lay: Layout, label: str, nth: int = 0):
    secs = [s for s in lay.sections if s.label == label]
    return secs[nth]


# --- the heading tree -------------------------------------------------------------------

TREE = [
    # label, nth, level, parent label (nth), title
    ("一、", 0, 1, ("", 0), "总体情况"),
    ("（一）", 0, 2, ("一、", 0), "教育事业"),
    ("1.", 0, 3, ("（一）", 0), "新建幼儿园"),
    ("①", 0, 4, ("1.", 0), "城区幼儿园"),
    ("②", 0, 4, ("1.", 0), "农村幼儿园"),
    ("2.", 0, 3, ("（一）", 0), "改造校舍"),
    ("①", 1, 4, ("2.", 0), "城区5所"),           # inline, inside the 2. paragraph
    ("②", 1, 4, ("2.", 0), "农村5所"),
    ("（二）", 0, 2, ("一、", 0), "医疗卫生"),
    ("一是", 0, 5, ("（二）", 0), "建设卫生院"),     # inline 一是/二是
    ("二是", 0, 5, ("（二）", 0), "培训医生"),
    ("二、", 0, 1, ("", 0), "社会保障"),
    ("1", 0, 3, ("二、", 0), "城镇新增就业"),       # table items
    ("2", 0, 3, ("二、", 0), "棚户区改造"),
    ("三、", 0, 1, ("", 0), "下一步工作"),
]


@pytest.mark.parametrize("label,nth,level,parent,title", TREE, ids=[f"{t[0]}{t[1]}" for t in TREE])
def test_segment_heading_tree_levels_parents_titles(lay, label, nth, level, parent, title):
    sec = span(lay, label, nth)
    assert sec.level == level
    assert sec.title == title
    assert lay.sections[sec.parent] is span(lay, *parent)
    assert DOC[sec.start:].startswith(label)


def test_segment_sections_in_document_order_and_indexed(lay):
    assert [s.index for s in lay.sections] == list(range(len(lay.sections)))
    assert [s.label for s in lay.sections] == ["", *[t[0] for t in TREE]]
    root = lay.sections[0]
    assert (root.level, root.parent, root.start) == (0, None, 0)


SPANS = [
    # label, nth, exact text of the section
    ("一、", 0, DOC[at("一、"):at("二、")]),
    ("（一）", 0, DOC[at("（一）"):at("（二）")]),
    ("1.", 0, "1.新建幼儿园。计划新建3所，已完成2所。\n①城区幼儿园。完成1所。\n②农村幼儿园。完成1所。\n"),
    ("①", 0, "①城区幼儿园。完成1所。\n"),
    ("②", 0, "②农村幼儿园。完成1所。\n"),
    ("2.", 0, "2.改造校舍。改造校舍10所，①城区5所，②农村5所。\n"),
    ("①", 1, "①城区5所，"),
    ("②", 1, "②农村5所。"),
    ("（二）", 0, "（二）医疗卫生。一是建设卫生院，完成8个；二是培训医生，完成200名。\n"),
    ("一是", 0, "一是建设卫生院，完成8个；"),
    ("二是", 0, "二是培训医生，完成200名。"),
    ("二、", 0, DOC[at("二、"):at("三、")]),
    ("1", 0, "1\t城镇新增就业\t300\t389\t129.67%\n"),
    # the last item closes where its table ends (the blank line)
    ("2", 0, "2\t棚户区改造\t6125\t7988\t130.42%\n"),
    # the last heading runs to the related-articles tail, chrome lines included
    ("三、", 0, DOC[at("三、"):at("相关文章")]),
]


@pytest.mark.parametrize("label,nth,text", SPANS, ids=[f"{t[0]}{t[1]}" for t in SPANS])
def test_segment_section_spans(lay, label, nth, text):
    sec = span(lay, label, nth)
    assert DOC[sec.start:sec.end] == text


@pytest.mark.parametrize("label,nth,end_char", [("一、", 0, "。"), ("（一）", 0, "。"), ("1.", 0, "。"),
                                                ("①", 1, "，"), ("一是", 0, "，")])
def test_segment_title_ends_at_the_first_stop(lay, label, nth, end_char):
    sec = span(lay, label, nth)
    assert DOC[sec.title_end] == end_char
    assert DOC[sec.start + len(label):sec.title_end] == sec.title


def test_segment_table_item_title_end_points_after_its_title(lay):
    sec = span(lay, "1")
    assert DOC[sec.title_end - len(sec.title):sec.title_end] == "城镇新增就业"


def test_segment_line_start_circled_number_is_one_section(lay):
    off = at("①城区幼儿园")
    assert [s.label for s in lay.sections if s.start == off] == ["①"]


def test_segment_section_at_ancestors_children(lay):
    sec = lay.section_at(at("农村5所"))
    assert (sec.label, sec.title) == ("②", "农村5所")
    assert [s.label for s in lay.ancestors(sec)] == ["2.", "（一）", "一、", ""]
    assert [s.label for s in lay.children(span(lay, "（二）"))] == ["一是", "二是"]
    assert lay.section_at(at("7988")).title == "棚户区改造"
    assert lay.section_at(at("下一句")).label == "二、"
    assert lay.section_at(0).label == ""


def test_segment_heading_shapes_and_non_headings():
    text = "一、就业\n10.5%的增长\n2019年完成\n1、培训\n(一)医疗\n二)住房\n三、教育"
    lay = segment(text, CONF)
    got = [(s.label, s.level, lay.sections[s.parent].label) for s in lay.sections[1:]]
    assert got == [("一、", 1, ""), ("1、", 3, "一、"), ("(一)", 2, "一、"), ("二)", 2, "一、"),
                   ("三、", 1, "")]


def test_segment_normalized_labels_nest_like_full_width_ones():
    raw = "一、总体\n（一）教育\n１．新建\n（二）医疗"
    text = normalize(raw)
    lay = segment(text, CONF)
    got = [(s.label, s.level, lay.sections[s.parent].label) for s in lay.sections[1:]]
    assert got == [("一、", 1, ""), ("(一)", 2, "一、"), ("1.", 3, "(一)"), ("(二)", 2, "一、")]


def test_segment_inline_labels_without_punctuation_between_them():
    text = "一、总体\n1.就业。①新增5人②培训3人\n（一）教育"
    lay = segment(text, CONF)
    got = [(s.label, s.level, text[s.start:s.end]) for s in lay.sections[1:]]
    assert got == [("一、", 1, text), ("1.", 3, "1.就业。①新增5人②培训3人\n"),
                   ("①", 4, "①新增5人"), ("②", 4, "②培训3人"), ("（一）", 2, "（一）教育")]


def test_segment_yishi_at_line_start_and_after_commas():
    text = "一、总体\n一是加强；二是完善，三是推进。"
    lay = segment(text, CONF)
    got = [(s.label, s.title, text[s.start:s.end]) for s in lay.sections[2:]]
    assert got == [("一是", "加强", "一是加强；"), ("二是", "完善", "二是完善，"), ("三是", "推进", "三是推进。")]
    assert all(lay.sections[s.parent].label == "一、" for s in lay.sections[2:])


# --- tables -----------------------------------------------------------------------------

def test_segment_table_caption_unit_header_rows(lay):
    (t,) = lay.tables
    assert t.caption == "表1 2019年民生实事进度表（单位：万元）"
    assert t.unit == "万元"
    assert t.header == ["序号", "项目名称", "年度目标", "完成", "完成率"]
    assert DOC[t.start:t.end] == ("序号\t项目名称\t年度目标\t完成\t完成率\n"
                                  "1\t城镇新增就业\t300\t389\t129.67%\n"
                                  "2\t棚户区改造\t6125\t7988\t130.42%")
    assert [DOC[a:b].split("\t")[0] for a, b in t.rows] == ["序号", "1", "2"]
    assert lay.table_at(at("389", "城镇新增就业")) is t
    assert lay.table_at(at("全市新增就业")) is None


@pytest.mark.parametrize("figure,after,header", [
    ("300", "城镇新增就业", "年度目标"),
    ("389", "城镇新增就业", "完成"),
    ("129.67%", "城镇新增就业", "完成率"),
    ("棚户区改造", "", "项目名称"),
    ("2\t", "129.67%", "序号"),
    ("完成率", "序号", None),           # the header row itself
    ("389人", "", None),                # outside any table
])
def test_segment_column_header(lay, figure, after, header):
    assert lay.column_header(at(figure, after)) == header


def test_segment_table_unit_from_the_header_row():
    text = "二、项目安排情况如下所述\n续写正文以免太短被当作表格碎片\n表2 资金安排\n" \
           "序号\t项目\t资金(万元)\n1\t就业\t300\n2\t教育\t500\n\n后文一段。"
    lay = segment(text, CONF)
    (t,) = lay.tables
    assert t.unit == "万元"
    assert t.caption == "表2 资金安排"
    assert [s.title for s in lay.sections if s.level == 3] == ["就业", "教育"]


def test_segment_table_without_header_has_no_column_headers():
    text = "二、正文段落足够长的一行用来分隔\n另一行正文也足够长用来分隔开来\n\n" \
           "就业\t300\t389\n教育\t5\t6\n\n三、后文"
    lay = segment(text, CONF)
    (t,) = lay.tables
    assert t.header == []
    assert lay.column_header(text.index("389")) is None
    assert [s.label for s in lay.sections] == ["", "二、", "三、"]   # no 序号: no items


def test_segment_table_item_ends_with_its_table_before_the_next_heading():
    text = "二、正文段落足够长的一行用来分隔\n另一行正文也足够长用来分隔开来\n" \
           "序号\t项目\t完成\n1\t就业\t389\n2\t教育\t5\n三、后文"
    lay = segment(text, CONF)
    item2 = [s for s in lay.sections if s.label == "2"][0]
    assert text[item2.start:item2.end].rstrip("\n") == "2\t教育\t5"
    assert lay.section_at(text.index("后文")).label == "三、"


def test_segment_total_row_is_not_part_of_the_last_item():
    text = "序号\t项目\t完成\n1\t就业\t389\n合计\t\t389\n"
    lay = segment(text, CONF)
    assert lay.section_at(text.index("合计")).label == ""


def test_segment_caption_on_the_first_line():
    # regression: a short caption on one of the first lines was once taken for a cell
    # fragment cut out of a table (last_row_line started at -10)
    text = "表1 进度表\n序号\t项目\t完成\n1\t就业\t389\n"
    lay = segment(text, CONF)
    assert lay.tables[0].caption == "表1 进度表"


def test_segment_second_table_keeps_its_own_caption_and_unit():
    text = ("一、资金安排情况说明如下所述各项\n表1 资金表（单位：万元）\n序号\t项目\t资金\n1\t就业\t300\n\n"
            "表2 补助标准（单位：元）\n序号\t项目\t标准\n1\t低保\t500\n\n二、其他")
    lay = segment(text, CONF)
    assert [(t.caption, t.unit) for t in lay.tables] == [
        ("表1 资金表（单位：万元）", "万元"), ("表2 补助标准（单位：元）", "元")]


# --- boilerplate ----------------------------------------------------------------------------

def test_segment_chrome_lines_and_related_articles_tail(lay):
    chrome = [DOC[a:b] for a, b in lay.boilerplate]
    assert chrome == ["当前位置：首页 > 政务公开", "【关闭窗口】", "相关文章：\n关于印发某某的通知\n"]
    tail = at("相关文章")
    assert lay.boilerplate[-1] == (tail, len(DOC))
    assert all(s.end <= tail for s in lay.sections)
    assert lay.in_boilerplate(at("当前位置"), at("当前位置") + 4)
    assert lay.in_boilerplate(at("某某"), at("某某") + 2)
    assert not lay.in_boilerplate(at("继续推进"), at("继续推进") + 2)


def test_segment_related_articles_near_the_start_is_not_a_tail():
    text = "相关文章\n" + "一、正文" + "内容" * 40 + "\n二、其他"
    lay = segment(text, CONF)
    assert lay.boilerplate == []
    assert [s.label for s in lay.sections] == ["", "一、", "二、"]


def test_segment_related_reading_tail_hides_headings_after_it():
    text = "一、" + "正文" * 30 + "\n相关阅读：某某\n二、后面"
    lay = segment(text, CONF)
    assert [text[a:b] for a, b in lay.boilerplate] == ["相关阅读：某某\n二、后面"]
    assert [s.label for s in lay.sections] == ["", "一、"]


# --- scopes -----------------------------------------------------------------------------------

SENT = "全市新增就业389人，完成年度目标300人的129.67%；其中城镇3人。下一句。"


@pytest.mark.parametrize("kind,text", [
    ("clause", "全市新增就业389人"),
    ("semi", "全市新增就业389人，完成年度目标300人的129.67%"),
    ("sentence", "全市新增就业389人，完成年度目标300人的129.67%；其中城镇3人"),
    ("cell", SENT),
    ("line", SENT),
])
def test_segment_scope_of_a_figure(lay, kind, text):
    a, b = lay.scope(at("389人"), kind)
    assert DOC[a:b] == text


def test_segment_scope_with_an_end_spans_both_figures(lay):
    a, b = lay.scope(at("389人"), "clause", at("129.67%", "全市") + len("129.67%"))
    assert DOC[a:b] == "全市新增就业389人，完成年度目标300人的129.67%"
    a, b = lay.scope(at("3人。下一句"), "semi")
    assert DOC[a:b] == "其中城镇3人"
    a, b = lay.scope(at("下一句"), "sentence")
    assert DOC[a:b] == "下一句"


def test_segment_scope_in_a_table_cell(lay):
    off = at("389", "城镇新增就业")
    for kind in ("clause", "semi", "sentence", "cell"):
        a, b = lay.scope(off, kind)
        assert DOC[a:b] == "389", kind
    a, b = lay.scope(off, "line")
    assert DOC[a:b] == "1\t城镇新增就业\t300\t389\t129.67%"


def test_segment_scope_at_the_ends_of_the_text():
    lay = segment("完成389人", CONF)
    assert lay.scope(0, "clause") == (0, 6)
    assert lay.scope(6, "sentence") == (0, 6)
    lay = segment("甲。乙", CONF)
    assert lay.scope(0, "sentence") == (0, 1)
    assert lay.scope(2, "sentence") == (2, 3)
