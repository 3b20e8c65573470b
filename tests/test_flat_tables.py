"""Flattened tables in plain text are rebuilt into TAB rows, and then read as tables."""
from __future__ import annotations

from pipeline.readers.flat_tables import rebuild
from pipeline.readers.text import read


def test_piped_rows_become_tab_rows_and_a_lone_piped_line_stays():
    text = ("2024年3月1日 | 来源:某某日报\n"
            "县区 | 计划数 | 完成数 | 完成率 |\n甲县 | 40 | 30 | 75% |\n乙县 | 20 | 19 | 95% |\n说明文字")
    out = rebuild(text).split("\n")
    assert out[0] == "2024年3月1日 | 来源:某某日报"
    assert out[1:4] == ["县区\t计划数\t完成数\t完成率", "甲县\t40\t30\t75%", "乙县\t20\t19\t95%"]
    assert out[4] == "" and out[5] == "说明文字"


def test_a_cell_a_line_is_cut_into_rows_as_wide_as_its_header():
    cells = ["单位", "交办量", "办结率", "甲区", "120", "98.5%", "乙区", "80", "97.0%"]
    out = rebuild("\n".join(c + " |" for c in cells))
    assert out.split("\n")[:3] == ["单位\t交办量\t办结率", "甲区\t120\t98.5%", "乙区\t80\t97.0%"]


def test_spaced_rows_take_the_header_above_and_get_back_their_blank_cells():
    text = ("序号 考核指标 单 位 工作目标 已完成数 完成比例\n"
            "1 新增就业 万人 3.1 3.4 109.7%\n"
            "新增技能培训 人次 900 950 105.6%\n"
            "2 改造户厕5000户以上 4800 5100 106.3%\n")
    rows = [r.split("\t") for r in rebuild(text).split("\n")[:4]]
    assert rows[0] == ["序号", "考核指标", "单位", "工作目标", "已完成数", "完成比例"]
    assert rows[2] == ["", "新增技能培训", "人次", "900", "950", "105.6%"]
    assert rows[3] == ["2", "改造户厕5000户以上", "", "4800", "5100", "106.3%"]


def test_prose_with_spaces_is_no_table():
    text = "全年完成投资 12.5亿元, 同比增长 8%。\n今年 新建 30 个 公园, 改造 12 个。\n"
    assert rebuild(text) == text


def test_blank_line_cells_rows_apart_by_two_blank_lines():
    text = "地区\n\n目标\n\n进度\n\n\n甲县\n\n300\n\n360\n\n120\n\n\n乙县\n\n200\n\n150\n\n75\n\n\n附注"
    out = rebuild(text)
    assert "甲县\t300\t360\t120\n乙县\t200\t150\t75" in out
    assert out.endswith("附注")


def test_the_text_reader_hands_on_rebuilt_tables():
    raw = "县区 | 计划数 | 完成数 |\n甲县 | 40 | 30 |\n乙县 | 20 | 19 |\n".encode("utf-8")
    assert "甲县\t40\t30" in read(raw).text


def test_a_label_without_figures_between_blank_line_rows_stays_in_the_table():
    text = "全市\n\n500\n\n600\n\n120\n\n\n新区\n\n\n甲县\n\n300\n\n360\n\n120\n\n\n乙县\n\n200\n\n240\n\n120"
    assert rebuild(text) == "全市\t500\t600\t120\n新区\n甲县\t300\t360\t120\n乙县\t200\t240\t120"


def test_a_piped_continuation_row_gets_its_blank_number_cell_back_in_front():
    text = ("序号 | 项目内容 | 进展情况 | 责任单位 |\n"
            "2 | 新建成照护驿站7家。 | 新建13家。 | 卫生健康局 |\n"
            "新增托位500个。 | 新增托位600个。 | ||\n")
    rows = [r.split("\t") for r in rebuild(text).split("\n") if "\t" in r]
    assert rows[2] == ["", "新增托位500个。", "新增托位600个。", ""]
