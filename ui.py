"""Shared Streamlit code: i18n table, session state, caching, the sidebar and shared charts.

Pages call :func:`page` (or, on the data page, :func:`setup` + :func:`context`) and get a
:class:`Ctx` with the loaded dataset and the current tiers; they render with ``segcore`` and the
chart helpers here. Every user-visible string goes through :func:`t`.

State
-----
Settings live in ``st.session_state`` under ``s_*`` keys (never widget keys). A widget bound to a
setting gets the key ``w_*``, is seeded from the setting on every run and writes back through its
``on_change`` callback, so values survive page switches (Streamlit drops a widget's key when a page
without that widget runs).

Caching
-------
- :func:`_load_dataset` (``st.cache_resource``): one :class:`segcore.Dataset` per file content hash
  + mapping + date order + duplicates choice (+ the optional files' hashes).
- :func:`_metrics` (``st.cache_data``): the per-customer table per dataset key + as-of + window start.
- Tiering (``assign_tiers`` + ``tier_summary``) is memoised per session for the current settings,
  so moving a slider costs one re-tier of the cached per-customer table.
DuckDB connections are shared between sessions, so every query from here uses ``ds.con.cursor()``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
import os
import re
import shutil
import tempfile
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

import segcore
from segcore import views
from segcore import scores as scores_mod
from segcore.scores import DEFAULT_SCORE_CUTS, DIMENSIONS, SEGMENT_ACTIONS, SEGMENT_NAMES_ZH

ROOT = Path(__file__).resolve().parent
SAMPLE_DIR = ROOT / "sample_data"
UPLOAD_DIR = Path(tempfile.gettempdir()) / "segcore-uploads"
UPLOAD_KEEP_DAYS = 7
PAGES = {
    "data": "app.py",
    "overview": "pages/1_Overview.py",
    "customers": "pages/2_Customers.py",
    "segments": "pages/3_Segments.py",
}
PAGE_ICONS = {"data": ":material/upload_file:", "overview": ":material/insights:",
              "customers": ":material/groups:", "segments": ":material/donut_small:"}
UPLOAD_TYPES = ["csv", "tsv", "txt", "xlsx", "xls", "parquet"]
CHUNK = 4 << 20

# Tier colours by position (best level first), the same on every page whatever the labels are.
TIER_COLORS = ("#1565C0", "#F9A825", "#8D99A6", "#8E24AA", "#6D4C41")
PROSPECT_COLOR = "#D7CCC8"
RETURN_COLOR = "#C62828"
CURVE_COLOR = "#263238"

# --------------------------------------------------------------------------------------------
# i18n: every user-visible string, English and Simplified Chinese
# --------------------------------------------------------------------------------------------

LANGS = {"en": "English", "zh": "简体中文"}

TEXT: dict[str, tuple[str, str]] = {
    # app and navigation
    "app_title": ("Customer tiers", "客户分级"),
    "nav_data": ("Data", "数据"),
    "nav_overview": ("Overview", "总览"),
    "nav_customers": ("Customers", "客户"),
    "nav_segments": ("Segments", "细分"),
    "language": ("Language", "语言"),
    # sidebar: data
    "sb_data": ("Data in use", "当前数据"),
    "sb_sample": ("Sample data (tea shop)", "示例数据（茶叶店）"),
    "sb_lines": ("{rows} order lines · {customers} customers", "{rows} 条订单明细 · {customers} 位客户"),
    "sb_dates": ("{start} → {end}", "{start} → {end}"),
    "sb_extras": ("Customer list {customers} · Interactions {interactions}",
                  "客户名单 {customers} · 互动记录 {interactions}"),
    "sb_yes": ("✓", "✓"),
    "sb_no": ("—", "—"),
    # sidebar: tier settings
    "sb_tiers": ("Tier settings", "分级设置"),
    "by_label": ("Cut tiers by", "分级依据"),
    "by_value": ("Share of spend", "消费额占比"),
    "by_count": ("Share of customers", "客户数占比"),
    "method_label": ("Method", "分级方法"),
    "method_pareto": ("Pareto", "帕累托"),
    "method_score": ("Weighted score", "加权评分"),
    "method_computed": ("Computed ABC", "计算 ABC"),
    "method_help": (
        "Pareto: rank customers by spend and cut at shares of revenue (or of customers). "
        "Weighted score: rank by the weighted mean of the R, F, M (and activity, breadth) scores "
        "set on the Segments page, and cut at shares of customers. Computed ABC: the cut points "
        "come from the shape of the spend curve itself (Ultsch & Lötsch 2015); three levels.",
        "帕累托：按消费额排序，按收入占比（或客户数占比）切分。加权评分：按“细分”页设置的 R、F、M"
        "（及活跃度、品类广度）得分加权平均排序，按客户数占比切分。计算 ABC：分界点由消费曲线本身的形状"
        "决定（Ultsch & Lötsch 2015），固定三级。"),
    "levels_label": ("Levels", "等级数"),
    "levels_computed": ("The computed ABC analysis always gives three levels.", "计算 ABC 固定为三个等级。"),
    "cut_value": ("{label} ends at this share of revenue", "{label} 级截至累计收入占比"),
    "cut_count": ("{labels}: top share of customers", "{labels} 级：排名前 % 的客户"),
    "cut_score": ("{labels}: top share of customers by score", "{labels} 级：综合得分排名前 % 的客户"),
    "cut_help_score": ("Customers are ranked by their weighted score (best first) and cut by head "
                       "count; customers with equal scores always stay in the same level.",
                       "客户按加权综合得分从高到低排序，按人数比例切分；得分相同的客户始终在同一等级。"),
    "computed_limits": ("{a}: spend above {ab}; {b}: {bc} to {ab}; {c}: below {bc}.",
                        "{a}：消费高于 {ab}；{b}：{bc} 至 {ab}；{c}：低于 {bc}。"),
    "suggest": ("Suggest cut points", "推荐分界点"),
    "suggest_help": ("Set the two sliders from the shape of your spend curve (computed ABC analysis).",
                     "根据消费曲线的形状（计算 ABC 分析）设置两个滑块。"),
    "suggested": (
        "Suggested from the spend curve (computed ABC, Ultsch & Lötsch 2015): {a} = customers "
        "spending above {ab} (where the curve is closest to the ideal point or its slope falls "
        "to 1), {b} down to {bc}. The sliders are now {a} {a_share} and {b} {b_share} of revenue.",
        "根据消费曲线推荐（计算 ABC，Ultsch & Lötsch 2015）：{a} 级为消费高于 {ab} 的客户"
        "（曲线最接近理想点或斜率降到 1 的位置），{b} 级下至 {bc}。滑块已设为 {a} {a_share}、"
        "{b} {b_share} 的收入占比。"),
    "cut_help_value": (
        "Customers are ranked by net spend. {a} is the smallest group of top customers whose "
        "spend together reaches this share of total revenue; the customer who crosses the line "
        "counts in the upper tier. Customers with no net spend are always in the last tier.",
        "客户按净消费从高到低排序。{a} 级是累计消费达到该收入占比的最少头部客户；"
        "跨越分界线的客户计入较高等级。净消费为零或负数的客户始终在最低等级。"),
    "cut_help_count": ("Customers are ranked by net spend and cut by head count.",
                       "客户按净消费排序，并按人数比例切分。"),
    "as_of": ("As-of date", "截止日期"),
    "as_of_help": ("Metrics are taken at this date: later orders are ignored and recency is "
                   "counted up to it.",
                   "按此日期计算指标：之后的订单不计入，未购天数算到这一天。"),
    "since": ("Window start", "起始日期"),
    "since_help": ("Orders before this date are ignored.", "此日期之前的订单不计入。"),
    "labels": ("Level names", "等级名称"),
    "label_n": ("Level {n}", "第 {n} 级"),
    "prospect_label": ("Prospects (never bought)", "潜在客户（未购买）"),
    "prospect_default": ("Iron", "铁"),
    "labels_invalid": ("Tier names must be different and not empty; using {labels}.",
                       "等级名称不能为空且不能重复；暂用 {labels}。"),
    "presets": ("Quick names", "快捷命名"),
    # --- issue 4: segments page ---
    "sg_title": ("Segments: RFM scores, segments and weighted tiers", "细分：RFM 得分、分群与加权分级"),
    "sg_intro": (
        "Every customer gets a score from 1 to {n} per dimension (recency reversed: recent buyers "
        "score high). Equal values always get the same score, so a score can hold more or fewer "
        "customers than 1/{n}, and a score that ties make impossible is skipped.",
        "每位客户在每个维度上得到 1 到 {n} 分（最近购买反向计分：越近分越高）。相同的数值总是得到相同的分数，"
        "因此某个分数的客户可能多于或少于 1/{n}；并列使某个分数无法出现时，该分数会被跳过。"),
    "sg_tab_scores": ("Scores", "得分"),
    "sg_tab_segments": ("RFM segments", "RFM 分群"),
    "sg_tab_weighted": ("Weighted tiers", "加权分级"),
    "sg_tab_breakdown": ("Breakdowns", "分布拆解"),
    "sg_points": ("Score points", "评分档数"),
    "sg_points_help": ("Scores run from 1 to this number. Changing it resets typed cut points and "
                       "edited segment rules.", "得分从 1 到该数字。更改后会清除自定义分界点和已编辑的分群规则。"),
    "sg_dim_caption": ("{customers} customers scored; {skipped}", "已评分客户 {customers} 位；{skipped}"),
    "sg_none_skipped": ("every score in use.", "所有分数均有客户。"),
    "sg_skipped": ("score {scores} skipped: ties make it impossible.", "分数 {scores} 被跳过：并列使其无法出现。"),
    "sg_custom": ("Custom cut points", "自定义分界点"),
    "sg_custom_ph": ("{k} increasing numbers, e.g. {example}", "{k} 个递增数字，例如 {example}"),
    "sg_custom_help": (
        "Type {k} increasing numbers separated by commas to use your own cut points instead of "
        "the data's: a value below the first gets the lowest score (for recency, in days: below "
        "the first gets the highest). Leave empty for the data-driven cuts.",
        "输入 {k} 个以逗号分隔的递增数字，用自定义分界点代替数据推算的分界点：低于第一个数的值得最低分"
        "（最近购买按天数计，低于第一个数得最高分）。留空则使用数据推算的分界点。"),
    "sg_custom_bad": ("Custom cut points for {dim} not used: {problem}", "{dim} 的自定义分界点未采用：{problem}"),
    "sg_custom_count": ("{n} scores need {k} cut points; got {got}.", "{n} 档评分需要 {k} 个分界点；实际 {got} 个。"),
    "sg_custom_order": ("the numbers must be finite and strictly increasing.", "数字必须有效且严格递增。"),
    "sg_custom_number": ("{value} is not a number.", "{value} 不是数字。"),
    "sg_custom_on": ("custom", "自定义"),
    "sg_col_score": ("Score", "得分"),
    "sg_col_from": ("From", "从"),
    "sg_col_to": ("To", "到"),
    "sg_col_customers": ("Customers", "客户数"),
    "sg_col_share": ("Share", "占比"),
    "sg_no_scores": ("No customer has an order in the window, so there is nothing to score.",
                     "窗口内没有客户有订单，无法评分。"),
    "sg_seg_chart": ("Customers per RFM segment", "各 RFM 分群客户数"),
    "sg_seg_axis": ("Customers", "客户数"),
    "sg_col_segment": ("Segment", "分群"),
    "sg_col_action": ("Suggested action", "建议行动"),
    "sg_col_revenue": ("Revenue", "收入"),
    "sg_col_revenue_share": ("Share of revenue", "收入占比"),
    "sg_col_avg_recency": ("Avg. days since last order", "平均未购天数"),
    "sg_col_avg_frequency": ("Avg. orders", "平均订单数"),
    "sg_col_avg_monetary": ("Avg. spend", "平均消费"),
    "sg_rules_title": ("Segment rules", "分群规则"),
    "sg_rules_help": (
        "Each row is a segment with a range of R, F and M scores (1 to {n}, both ends included). "
        "Rules are checked from the top: the first that matches wins; customers no rule matches "
        "are \"Others\". Edit, add or delete rows; the table applies as soon as it is valid.",
        "每一行是一个分群及其 R、F、M 得分范围（1 到 {n}，含两端）。规则自上而下匹配，先匹配者生效；"
        "没有匹配任何规则的客户归为“其他”。可编辑、添加或删除行；表格有效时立即生效。"),
    "sg_rules_bad": ("The rules were not applied: {problem}", "规则未生效：{problem}"),
    "sg_rules_reset": ("Restore the default rules", "恢复默认规则"),
    "sg_others_note": ("{n} customers ({share}) match no rule and are in \"Others\".",
                       "{n} 位客户（{share}）未匹配任何规则，归为“其他”。"),
    "sg_weights_title": ("Weights", "权重"),
    "sg_weights_help": ("How much each dimension counts in the weighted score (0 = not at all). "
                        "The weighted score is the weighted mean of a customer's scores.",
                        "各维度在加权得分中的比重（0 = 不计入）。加权得分是客户各项得分的加权平均。"),
    "sg_weights_zero": ("At least one weight must be above 0; the previous weights stay.",
                        "至少一个权重需大于 0；保留之前的权重。"),
    "sg_pareto_side": ("Pareto tiers (by spend, {cuts})", "帕累托分级（按消费额，{cuts}）"),
    "sg_score_side": ("Weighted-score levels (by customers, {cuts})", "加权得分分级（按客户数，{cuts}）"),
    "sg_cross_title": ("Pareto tier (rows) against weighted-score level (columns): customers",
                       "帕累托等级（行）对比加权得分等级（列）：客户数"),
    "sg_cross_axis_x": ("Weighted-score level", "加权得分等级"),
    "sg_cross_axis_y": ("Pareto tier", "帕累托等级"),
    "sg_agree": ("{share} of the buyers are in the same level both ways.", "{share} 的购买客户在两种方法下等级相同。"),
    "sg_use_score": ("Use weighted-score levels on every page", "在所有页面使用加权得分分级"),
    "sg_using_score": ("Every page uses the weighted-score levels (Method in the sidebar).",
                       "所有页面正在使用加权得分分级（见侧边栏“分级方法”）。"),
    "sg_by_attr": ("Break down by", "拆解维度"),
    "sg_mix_of": ("Mix of", "构成"),
    "sg_mix_tier": ("Tiers", "等级"),
    "sg_mix_segment": ("RFM segments", "RFM 分群"),
    "sg_show_share": ("Show shares", "显示占比"),
    "sg_no_attrs": ("The data has no descriptive columns (region, channel, category, or customer attributes "
                    "from a customers file) to break down by.",
                    "数据中没有可用于拆解的描述性字段（区域、渠道、品类，或客户文件中的客户属性）。"),
    "sg_stack_title": ("{mix} by {attr}", "按{attr}的{mix}"),
    "sg_stack_axis_share": ("Share of customers", "客户占比"),
    "sg_top_values": ("The {n} largest values are charted; the table has all.", "图中显示最大的 {n} 个取值；表格包含全部。"),
    "sg_filter": ("Keep only these values in the customer list and its downloads", "客户列表及其下载仅保留这些取值"),
    "sg_filter_on": ("Customer list filtered: {filters}.", "客户列表已筛选：{filters}。"),
    "sg_filter_clear": ("Clear filters", "清除筛选"),
    "sg_open_list": ("Open the filtered customer list", "打开筛选后的客户列表"),
    "sg_total": ("Total", "合计"),
    "sg_profile": ("RFM segment: **{segment}** · scores {scores} · weighted score {score}",
                   "RFM 分群：**{segment}** · 得分 {scores} · 加权得分 {score}"),
    # data page
    "data_title": ("Customer tiers: your data", "客户分级：数据导入"),
    "data_intro": (
        "The dashboard opens on a sample tea shop. Upload your own orders export (CSV, TSV, "
        "Excel or Parquet; English or Chinese headers; UTF-8 or GBK) to tier your own customers.",
        "仪表盘默认展示一家茶叶店的示例数据。上传您自己的订单导出文件（CSV、TSV、Excel 或 Parquet；"
        "中英文表头；UTF-8 或 GBK 编码），即可为您的客户分级。"),
    "source": ("Data source", "数据来源"),
    "src_sample": ("Sample data (tea shop)", "示例数据（茶叶店）"),
    "src_upload": ("Upload my files", "上传我的文件"),
    "up_orders": ("Orders file (required)", "订单文件（必填）"),
    "up_orders_help": ("One row per order or order line, with customer, date and amount (or "
                       "quantity and unit price).",
                       "每行一个订单或订单明细，包含客户、日期和金额（或数量和单价）。"),
    "up_optional": ("Optional: customer list and interactions", "可选：客户名单和互动记录"),
    "up_customers": ("Customer list", "客户名单"),
    "up_customers_help": ("Customer id plus name, region, industry… Customers who never bought "
                          "become prospects.",
                          "客户编号及名称、区域、行业等。从未购买的客户将列为潜在客户。"),
    "up_interactions": ("Interactions", "互动记录"),
    "up_interactions_help": ("Customer id, date and type (message, call, visit, campaign click).",
                             "客户编号、日期和类型（消息、电话、拜访、活动点击）。"),
    "up_saving": ("Receiving {file} ({size})…", "正在接收 {file}（{size}）…"),
    "up_current": ("In use: **{file}** ({size})", "使用中：**{file}**（{size}）"),
    "wait_upload": ("Upload an orders file to tier your own customers. Until then the sample "
                    "data is shown.",
                    "上传订单文件即可为您自己的客户分级。在此之前显示示例数据。"),
    "loading": ("Reading {file} ({size})…", "正在读取 {file}（{size}）…"),
    "loading_side": ("Attaching {file}…", "正在加入 {file}…"),
    "loaded": ("Read {file}", "已读取 {file}"),
    "showing_previous": ("The other pages keep showing the last data that worked: {file}.",
                         "其他页面仍显示上一次成功导入的数据：{file}。"),
    "mapping_title": ("Columns", "列对应"),
    "mapping_intro": ("Which column of the file holds what: recognised automatically, correct "
                      "it here if needed. * = required (amount, or quantity and unit price).",
                      "文件中每一列的含义已自动识别，如有误可在此修改。* 为必填项（金额，或数量与单价）。"),
    "not_used": ("— not used —", "— 不使用 —"),
    "date_order": ("Dates like 03/04/2025 are", "03/04/2025 这类日期表示"),
    "do_auto": ("Detected automatically", "自动识别"),
    "do_dmy": ("Day first (31/12/2025)", "日在前（31/12/2025）"),
    "do_mdy": ("Month first (12/31/2025)", "月在前（12/31/2025）"),
    "date_ambiguous": ("No day above 12 was found, so dates like 03/04/2025 were read day-first. "
                       "If your file writes the month first, choose it above.",
                       "未发现大于 12 的日，因此 03/04/2025 这类日期按“日在前”读取。"
                       "如果您的文件是月在前，请在上方选择。"),
    "drop_dup": ("Drop exact duplicate rows", "删除完全重复的行"),
    "drop_dup_help": ("Off (default): duplicate rows are kept, because a shop can sell the same "
                      "item twice in one order; they are only counted.",
                      "默认关闭：重复行会保留（同一订单可能卖出两次同一商品），只做统计。"),
    # ingest report
    "report_title": ("Import report", "导入报告"),
    "rows_read": ("Rows read", "读取行数"),
    "rows_used": ("Rows used", "使用行数"),
    "rows_rejected": ("Rows rejected", "拒绝行数"),
    "customers": ("Customers", "客户数"),
    "date_range": ("Date range", "日期范围"),
    "returns": ("Returns (negative amounts)", "退货（负金额）"),
    "returns_value": ("{n} lines, {sum}", "{n} 行，合计 {sum}"),
    "duplicates": ("Exact duplicate rows", "完全重复的行"),
    "dup_kept": ("{n} (kept)", "{n}（已保留）"),
    "dup_dropped": ("{n} (dropped)", "{n}（已删除）"),
    "amount_source": ("Amount", "金额来源"),
    "amount_col": ("amount column", "金额列"),
    "amount_qp": ("quantity × unit price", "数量 × 单价"),
    "file_format": ("File", "文件格式"),
    "rejected_by_reason": ("Rejected rows by reason", "按原因统计的拒绝行"),
    "reason": ("Reason", "原因"),
    "rows": ("Rows", "行数"),
    "no_rejected": ("Every row was used.", "所有行均已使用。"),
    "download_rejected": ("Download rejected rows (CSV)", "下载拒绝的行（CSV）"),
    "preview_rejected": ("First rejected rows", "拒绝行预览"),
    "side_customers": ("Customer list {file}: {used} of {read} rows used; {prospects} prospects "
                       "(never bought).",
                       "客户名单 {file}：使用 {used} / {read} 行；{prospects} 位潜在客户（从未购买）。"),
    "side_mapping_customers": ("Columns of the customer list {file}", "客户名单 {file} 的列"),
    "side_mapping_interactions": ("Columns of the interactions file {file}", "互动记录 {file} 的列"),
    "side_mapping_intro": ("Every other column of the customer list is kept as an attribute (region, industry ...).",
                           "客户名单中的其他列都保留为客户属性（区域、行业等）。"),
    "choose_column": ("Choose a column", "选择一列"),
    "side_field_customer_id": ("Customer ID", "客户编号"),
    "side_field_name": ("Name", "名称"),
    "side_field_date": ("Date", "日期"),
    "side_field_type": ("Type", "类型"),
    "side_interactions": ("Interactions {file}: {used} of {read} rows used, {start} → {end}.",
                          "互动记录 {file}：使用 {used} / {read} 行，{start} → {end}。"),
    "side_rejected": ("Rejected: {reasons}.", "拒绝：{reasons}。"),
    "side_unknown": ("{n} interactions name a customer found in no other file.",
                     "{n} 条互动记录的客户不在其他文件中。"),
    "next": ("Next", "下一步"),
    # rejection reasons (engine codes)
    "reason_missing customer id": ("missing customer id", "缺少客户编号"),
    "reason_missing date": ("missing date", "缺少日期"),
    "reason_unparseable date": ("date not understood", "无法识别的日期"),
    "reason_missing amount": ("missing amount", "缺少金额"),
    "reason_unparseable amount": ("amount not understood", "无法识别的金额"),
    "reason_duplicate": ("duplicate row (dropped)", "重复行（已删除）"),
    "reason_duplicate customer id": ("duplicate customer id", "重复的客户编号"),
    "reason_malformed row": ("row not split into the columns (quotes or delimiters)", "无法按列拆分的行（引号或分隔符有误）"),
    "reason_date out of range": ("date out of range", "日期超出合理范围"),
    "reason_amount out of range": ("amount out of range", "金额超出合理范围"),
    # notes on how a file was read (engine codes)
    "note_mixed_encoding": ("Lines not in UTF-8: {lines}; they were read as {encoding}, the others as UTF-8: "
                            "check the names in those lines.",
                            "有 {lines} 行不是 UTF-8 编码，已按 {encoding} 读取，其余行按 UTF-8 读取：请核对这些行中的名称。"),
    "note_nul_removed": ("NUL bytes removed from the values: {count}.", "已从数据中删除的 NUL 字节：{count} 个。"),
    "note_sheet": ("Sheet read: {sheet} (the workbook also has: {others}).",
                   "读取的工作表：{sheet}（工作簿中还有：{others}）。"),
    # errors
    "err_title": ("This file cannot be used", "无法使用该文件"),
    "err_empty": ("{file} contains no data rows.", "{file} 中没有数据行。"),
    "err_binary": ("{file} is not a table: it is neither CSV/TSV text, Excel (.xlsx/.xls) nor "
                   "Parquet.",
                   "{file} 不是表格文件：既不是 CSV/TSV 文本，也不是 Excel（.xlsx/.xls）或 Parquet。"),
    "err_unreadable": ("{file} could not be read as a table. Check that it is a CSV/TSV, Excel or "
                       "Parquet file and that it is not damaged.",
                       "无法把 {file} 读取为表格。请确认它是 CSV/TSV、Excel 或 Parquet 文件，且没有损坏。"),
    "err_no_columns": ("{file} has only one column ({column}): the delimiter or the format was "
                       "not recognised.",
                       "{file} 只有一列（{column}）：无法识别分隔符或文件格式。"),
    "err_missing_field": ("No column for the {fields} was found in {file}. Its columns are: "
                          "{columns}.",
                          "在 {file} 中没有找到{fields}列。文件的列为：{columns}。"),
    "err_fix_mapping": ("Choose the right columns below.", "请在下方选择正确的列。"),
    "err_fix_side": ("Pick the column: choose it under Columns of the {what} below, or check that it is "
                     "the right file.", "请在下方“{what} 的列”中选择对应的列，或确认上传的是正确的文件。"),
    "what_customers": ("customer list", "客户名单"),
    "what_interactions": ("interactions file", "互动记录"),
    "err_all_rejected": ("None of the {rows} rows of {file} could be used ({reasons}).",
                         "{file} 的 {rows} 行全部无法使用（{reasons}）。"),
    "err_unknown_column": ("There is no column {column} in {file}.", "{file} 中没有 {column} 列。"),
    "err_other": ("{file} could not be read.", "无法读取 {file}。"),
    "err_too_big": ("{file} was not read: it needs far more memory than a sheet of orders does. Save the "
                    "sheet as CSV and upload that.",
                    "未读取 {file}：它所需的内存远超一张订单表。请将工作表另存为 CSV 后上传。"),
    "err_details": ("Technical details", "技术细节"),
    "and": (" and the ", "和"),
    "list_sep": (", ", "、"),
    "or_qp": ("amount (or quantity and unit price)", "金额（或数量和单价）"),
    # canonical fields
    "field_customer_id": ("Customer ID", "客户编号"),
    "field_order_date": ("Order date", "订单日期"),
    "field_amount": ("Amount", "金额"),
    "field_quantity": ("Quantity", "数量"),
    "field_unit_price": ("Unit price", "单价"),
    "field_order_id": ("Order ID", "订单编号"),
    "field_product": ("Product", "商品"),
    "field_category": ("Category", "品类"),
    "field_region": ("Region", "区域"),
    "field_city": ("City", "城市"),
    "field_channel": ("Channel", "渠道"),
    "field_date": ("date", "日期"),
    "field_name": ("name", "名称"),
    "field_type": ("type", "类型"),
    # overview
    "ov_title": ("Overview", "总览"),
    "ov_caption": ("{file} · {start} → {as_of} · {n} customers", "{file} · {start} → {as_of} · {n} 位客户"),
    "kpi_customers": ("Customers", "客户数"),
    "kpi_customer_share": ("Share of customers", "客户占比"),
    "kpi_revenue": ("Revenue", "收入"),
    "kpi_revenue_share": ("Share of revenue", "收入占比"),
    "kpi_avg_spend": ("Average spend", "平均消费"),
    "kpi_avg_recency": ("Avg. days since last order", "平均未购天数"),
    "kpi_revenue_help": ("Net revenue: {value}", "净收入：{value}"),
    "days": ("{n} days", "{n} 天"),
    "na": ("–", "–"),
    "prospect_note": ("{label}: in the customer list, no purchase in the window.",
                      "{label}：在客户名单中，但在分析期内没有购买。"),
    "mix_title": ("Each tier's share of customers and of revenue", "各等级的客户占比与收入占比"),
    "mix_customers": ("Customers", "客户数"),
    "mix_revenue": ("Revenue", "收入"),
    "mix_hover": ("{tier}: {share} of {measure}", "{tier}：{measure}的 {share}"),
    "pareto_title": ("Pareto curve: how much of the revenue the top customers bring",
                     "帕累托曲线：头部客户贡献了多少收入"),
    "pareto_x": ("Share of customers, ranked by net spend (highest first)", "客户占比（按净消费从高到低排序）"),
    "pareto_y": ("Cumulative share of revenue", "累计收入占比"),
    "pareto_curve": ("Customers ranked by spend", "按消费排序的客户"),
    "pareto_equal": ("If everyone spent the same", "若每位客户消费相同"),
    "pareto_cut": ("{tier}: top {x} of customers → {y} of revenue", "{tier}：前 {x} 的客户 → {y} 的收入"),
    "pareto_hover": ("Top {x} of customers bring {y} of revenue", "前 {x} 的客户贡献 {y} 的收入"),
    "dist_title": ("How the customers are spread", "客户分布"),
    "dist_spend": ("Net spend per customer", "每位客户的净消费"),
    "dist_freq": ("Orders per customer", "每位客户的订单数"),
    "dist_recency": ("Days since the last order", "距上次购买的天数"),
    "axis_customers": ("Customers", "客户数"),
    "axis_spend": ("Net spend", "净消费"),
    "axis_orders": ("Orders", "订单数"),
    "axis_days": ("Days since the last order", "距上次购买的天数"),
    "tier": ("Tier", "等级"),
    # customers page
    "cu_title": ("Customers", "客户"),
    "filter_tiers": ("Tiers", "等级"),
    "search": ("Search by id or name", "按编号或名称搜索"),
    "search_ph": ("e.g. C00012 or Tea", "例如 C00012 或 茶"),
    "sort_by": ("Sort by", "排序依据"),
    "descending": ("Highest first", "从高到低"),
    "showing": ("{n} of {total} customers", "显示 {n} / {total} 位客户"),
    "table_capped": ("The table shows the first {n} rows; search or filter to narrow it down. "
                     "The downloads below contain every row.",
                     "表格只显示前 {n} 行，可用搜索或筛选缩小范围；下方下载包含全部行。"),
    "table_help": ("Click a row to open the customer's profile below.", "点击表格中的一行，在下方查看客户档案。"),
    "download": ("Download", "下载"),
    "dl_scope": ("What to download", "下载范围"),
    "dl_filter": ("Current filter ({n})", "当前筛选（{n}）"),
    "dl_all": ("All customers ({n})", "全部客户（{n}）"),
    "dl_tier": ("One tier", "单个等级"),
    "dl_tier_pick": ("Tier to download", "要下载的等级"),
    "dl_csv": ("CSV", "CSV"),
    "dl_csv_help": ("UTF-8 with BOM: opens in Excel with Chinese text intact.",
                    "UTF-8（带 BOM）：用 Excel 打开中文不乱码。"),
    "dl_xlsx": ("Excel", "Excel"),
    "dl_xlsx_help": ("A summary sheet plus one sheet per tier.", "一个汇总表，加上每个等级一个工作表。"),
    "dl_note": ("Same columns as the command line export; text that could start a spreadsheet "
                "formula is neutralised.",
                "列与命令行导出一致；可能被表格软件当作公式的文本已做安全处理。"),
    "pick": ("Open a customer", "打开客户档案"),
    "pick_ph": ("Choose a customer…", "选择客户…"),
    "no_customer": ("Choose a customer in the table (click a row) or in the box above to see "
                    "their profile.",
                    "在表格中点击一行，或在上方选择框中选择客户，即可查看客户档案。"),
    "profile": ("Customer profile", "客户档案"),
    "p_rank": ("Rank by spend", "消费排名"),
    "p_rank_value": ("{rank} of {n}", "第 {rank} / {n}"),
    "p_prospect": ("A prospect: in the customer list, but no purchase in the window.",
                   "潜在客户：在客户名单中，但在分析期内没有购买。"),
    "p_details": ("Details", "客户信息"),
    "orders_title": ("Orders over time", "历史订单"),
    "orders_x": ("Order date", "下单日期"),
    "orders_y": ("Net amount", "净金额"),
    "orders_hover": ("Order {order}: {amount} ({lines} lines)", "订单 {order}：{amount}（{lines} 行）"),
    "orders_none": ("No orders in the window.", "分析期内没有订单。"),
    "products_title": ("Products bought", "购买的商品"),
    "no_products": ("The orders file has no product column.", "订单文件中没有商品列。"),
    "interactions_title": ("Interactions", "互动记录"),
    "no_interactions": ("No interactions recorded for this customer.", "该客户没有互动记录。"),
    "no_interactions_file": ("Add an interactions file on the Data page to see calls, messages "
                             "and visits here.",
                             "在“数据”页上传互动记录文件，即可在此查看电话、消息和拜访。"),
    "position_title": ("Where this customer sits on the Pareto curve", "该客户在帕累托曲线上的位置"),
    "position_point": ("{id}: rank {rank}", "{id}：第 {rank} 名"),
    # column headers
    "col_customer_id": ("Customer ID", "客户编号"),
    "col_name": ("Name", "名称"),
    "col_tier": ("Tier", "等级"),
    "col_rank": ("Rank", "排名"),
    "col_recency_days": ("Days since last order", "未购天数"),
    "col_frequency": ("Orders", "订单数"),
    "col_monetary": ("Net spend", "净消费"),
    "col_avg_order_value": ("Average order value", "客单价"),
    "col_first_order_date": ("First order", "首次购买"),
    "col_last_order_date": ("Last order", "最近购买"),
    "col_tenure_days": ("Days since first order", "首购至今天数"),
    "col_product_breadth": ("Products bought", "购买商品数"),
    "col_avg_interval_days": ("Days between orders", "平均购买间隔（天）"),
    "col_spend_first_half": ("Spend, first half", "前半期消费"),
    "col_spend_second_half": ("Spend, second half", "后半期消费"),
    "col_trend": ("Trend (2nd half vs 1st)", "趋势（后半期对比前半期）"),
    "col_cumulative_share": ("Cumulative share of revenue", "累计收入占比"),
    "col_r_score": ("R score", "R 得分（最近购买）"),
    "col_f_score": ("F score", "F 得分（购买频次）"),
    "col_m_score": ("M score", "M 得分（消费金额）"),
    "col_a_score": ("Activity score", "活跃度得分"),
    "col_b_score": ("Breadth score", "品类广度得分"),
    "col_composite_score": ("Weighted score", "加权综合得分"),
    "col_rfm_segment": ("RFM segment", "RFM 分群"),
    "col_is_prospect": ("Prospect", "潜在客户"),
    "col_interactions_90d": ("Interactions, last 90 days", "近 90 天互动"),
    "col_last_interaction_date": ("Last interaction", "最近互动"),
    "col_region": ("Region", "区域"),
    "col_city": ("City", "城市"),
    "col_channel": ("Channel", "渠道"),
    "col_top_category": ("Top category", "主要品类"),
    "col_industry": ("Industry", "行业"),
    "col_signup_date": ("Signup date", "注册日期"),
    "col_age_band": ("Age band", "年龄段"),
    "col_gender": ("Gender", "性别"),
    "col_order_key": ("Order", "订单"),
    "col_order_date": ("Date", "日期"),
    "col_lines": ("Lines", "行数"),
    "col_amount": ("Amount", "金额"),
    "col_product": ("Product", "商品"),
    "col_category": ("Category", "品类"),
    "col_first_date": ("First bought", "首次购买"),
    "col_last_date": ("Last bought", "最近购买"),
    "col_date": ("Date", "日期"),
    "col_type": ("Type", "类型"),
    # --- issue 5: migration, churn, playbook, workspace ---
    "nav_migration": ("Migration", "等级迁移"),
    "nav_churn": ("Churn warning", "流失预警"),
    "nav_playbook": ("Playbook", "行动手册"),
    "save": ("Save", "保存"),
    "delete": ("Delete", "删除"),
    "apply": ("Apply", "应用"),
    "dl_one_sheet_help": ("One sheet with the same columns as the CSV.", "一个工作表，列与 CSV 相同。"),
    "period_month": ("Month", "月"),
    "period_quarter": ("Quarter", "季度"),
    "period_half-year": ("Half-year", "半年"),
    "period_year": ("Year", "年"),
    "period_custom": ("Custom", "自定义"),
    "mv_upgraded": ("Upgraded", "升级"),
    "mv_downgraded": ("Downgraded", "降级"),
    "mv_new": ("New", "新增"),
    "mv_lost": ("Lost", "流失"),
    "mv_same": ("Same level", "等级不变"),
    "mv_help_upgraded": ("In a higher level on {after} than on {before}. Their spend up to {after}: {revenue}.",
                         "{after} 的等级高于 {before}。截至 {after} 的消费：{revenue}。"),
    "mv_help_downgraded": ("In a lower level on {after} than on {before}. Their spend up to {after}: {revenue}.",
                           "{after} 的等级低于 {before}。截至 {after} 的消费：{revenue}。"),
    "mv_help_new": ("No purchase up to {before}, a first one by {after}. Their spend: {revenue}.",
                    "截至 {before} 没有购买，在 {after} 前首次购买。其消费：{revenue}。"),
    "mv_help_lost": ("Bought in the period before {before}, nothing since, up to {after}. The spend they "
                     "had brought: {revenue}.",
                     "在 {before} 之前的一个周期内有购买，此后到 {after} 没有再购买。他们之前的消费：{revenue}。"),
    "mv_help_same": ("Same level on both dates (also prospects who stayed prospects, and customers who had "
                     "stopped buying before {before}). Their spend up to {after}: {revenue}.",
                     "两个日期等级相同（包括一直未购买的潜在客户，以及在 {before} 之前就已停止购买的客户）。"
                     "截至 {after} 的消费：{revenue}。"),
    "mig_title": ("Tier migration", "等级迁移"),
    "mig_intro": ("Who moved between tiers: the same tier rules applied at two as-of dates, or to a saved "
                  "snapshot and today's data.",
                  "哪些客户在等级之间发生了变化：用同一套分级规则比较两个截止日期，或比较已保存的快照与当前数据。"),
    "mig_tab_dates": ("Two dates", "两个日期"),
    "mig_tab_snapshot": ("Saved snapshots", "已保存的快照"),
    "mig_period": ("Compare with", "对比周期"),
    "mig_from": ("From", "起始日"),
    "mig_from_help": ("The earlier as-of date: one period before the later one, or any date with Custom.",
                      "较早的截止日期：比较晚日期早一个周期，选择“自定义”可任选日期。"),
    "mig_to": ("To", "截止日"),
    "mig_to_help": ("The later as-of date: the same as the as-of date in the sidebar.",
                    "较晚的截止日期：与侧边栏中的截止日期相同。"),
    "mig_no_room": ("The data starts on {date}, the as-of date: there is no earlier date to compare with.",
                    "数据从 {date}（即截止日期）开始，没有更早的日期可以比较。"),
    "mig_before_start": ("The earlier date {before} is before the window start {start}: nobody has bought "
                         "yet then. Choose a shorter period or a later date.",
                         "较早日期 {before} 早于起始日期 {start}，那时还没有任何购买。请选择更短的周期或更晚的日期。"),
    "mig_rules_note": ("Both dates are tiered with the rules in the sidebar ({levels}); each date sees only "
                       "the orders up to it.",
                       "两个日期都使用侧边栏中的分级规则（{levels}）；每个日期只计入截至当天的订单。"),
    "mig_bad_labels": ("A level named \"new\" or \"lost\" cannot be compared (those words name the extra row "
                       "and column). Rename the level in the sidebar.",
                       "名为“new”或“lost”的等级无法比较（这两个词用于额外的行和列）。请在侧边栏中重命名等级。"),
    "mig_axis_before": ("Level on {date}", "{date} 的等级"),
    "mig_axis_after": ("Level on {date}", "{date} 的等级"),
    "mig_matrix_customers": ("Customers: level before → level after", "客户数：之前等级 → 之后等级"),
    "mig_matrix_revenue": ("Revenue: level before → level after", "收入：之前等级 → 之后等级"),
    "mig_matrix_note": ("Rows: level on {before}; columns: level on {after}. The colour is the cell's share of "
                        "its row. Revenue is each customer's net spend up to {after} (for lost customers, up to "
                        "{before}).",
                        "行：{before} 的等级；列：{after} 的等级。颜色深浅表示该格占所在行的比例。收入为每位客户截至 "
                        "{after} 的净消费（流失客户按截至 {before} 计）。"),
    "mig_cell_hover": ("{before} → {after}: {value} ({share} of the row)", "{before} → {after}：{value}（占该行 {share}）"),
    "mig_new_row": ("New", "新客户"),
    "mig_lost_col": ("Lost", "流失"),
    "mig_corner": ("Before → after", "之前 → 之后"),
    "mig_measure": ("Flow width", "流量宽度"),
    "mig_by_customers": ("Customers", "客户数"),
    "mig_by_revenue": ("Revenue", "收入"),
    "mig_flow_title": ("Flow between the levels", "等级之间的流动"),
    "mig_flow_hover": ("{before} → {after}: {value}", "{before} → {after}：{value}"),
    "mig_lists": ("Who moved", "变动客户名单"),
    "mig_list_pick": ("List", "名单"),
    "mig_list_empty": ("Nobody in this list.", "该名单中没有客户。"),
    "mig_dl_all": ("Everything (Excel)", "全部内容（Excel）"),
    "mig_dl_all_help": ("Summary, both matrices and the four lists, a sheet each.",
                        "汇总、两个矩阵和四个名单，各占一个工作表。"),
    "mig_as_tables": ("The matrices as tables", "以表格查看矩阵"),
    "mig_sheet_summary": ("Summary", "汇总"),
    "mig_sheet_customers": ("Matrix customers", "客户数矩阵"),
    "mig_sheet_revenue": ("Matrix revenue", "收入矩阵"),
    "snap_intro": ("A snapshot keeps today's tiers in the workspace. Next month, compare the new tiers with "
                   "it, even from a new export file.",
                   "快照会把当前的分级保存到工作区。下个月即使换了新的导出文件，也可以把新的分级与快照比较。"),
    "snap_save_title": ("Save the current tiers as a snapshot of {date}", "把当前分级保存为 {date} 的快照"),
    "snap_name": ("Name (optional)", "名称（可选）"),
    "snap_name_ph": ("e.g. Monthly review", "例如：月度复盘"),
    "snap_save_note": ("Filed under: {dataset}. A snapshot with the same data, date and name is replaced.",
                       "归档于：{dataset}。相同数据、日期和名称的快照会被替换。"),
    "snap_saved": ("Snapshot of {date} saved.", "已保存 {date} 的快照。"),
    "snap_deleted": ("Snapshot deleted.", "快照已删除。"),
    "snap_none": ("No snapshot saved yet.", "还没有保存任何快照。"),
    "snap_pick": ("Compare the current tiers with", "将当前分级与以下快照比较"),
    "snap_item": ("{date} · {name} · {dataset} · {n} customers", "{date} · {name} · {dataset} · {n} 位客户"),
    "snap_not_before": ("This snapshot is of {date}, not before the current as-of date {as_of}: choose an "
                        "older snapshot or a later as-of date.",
                        "该快照日期为 {date}，不早于当前截止日期 {as_of}：请选择更早的快照或更晚的截止日期。"),
    "snap_other_levels": ("This snapshot has the levels {saved}; the current tiers have {now}. Compare like "
                          "with like: use the snapshot's tier rules.",
                          "该快照的等级为 {saved}，当前分级为 {now}。请用相同的规则比较：使用快照的分级规则。"),
    "snap_use_rules": ("Use the snapshot's tier rules", "使用快照的分级规则"),
    "ch_title": ("Churn warning", "流失预警"),
    "ch_intro": ("Buyers who are overdue for their next order, or whose recent spend fell, high tiers first; "
                 "customers on the rise; and every customer's lifecycle stage.",
                 "超过平常下单间隔仍未下单、或近期消费下降的客户（高等级优先）；消费上升的客户；以及每位客户的生命周期阶段。"),
    "ch_k": ("At risk after k × the usual interval", "超过平常间隔的 k 倍即预警"),
    "ch_k_help": ("A buyer is overdue when the days since their last order exceed k times their usual "
                  "interval between orders (one-time buyers: the typical interval of all repeat buyers). "
                  "At 2k or more the risk is high.",
                  "距上次下单的天数超过其平常下单间隔的 k 倍即为逾期（只买过一次的客户按所有复购客户的典型间隔计）。"
                  "达到 2k 倍为高风险。"),
    "ch_drop": ("…or recent spend fell by more than", "…或近期消费下降超过"),
    "ch_drop_help": ("Spend in the second half of the window against the first half.",
                     "分析期后半段的消费与前半段相比。"),
    "ch_lapse": ("Lapsed after (days)", "沉睡阈值（天）"),
    "ch_lapse_help": ("Customers with no order for longer than this have lapsed already: they are not in the "
                      "warning list but in the lifecycle stage Lapsed.",
                      "超过此天数未下单的客户已经沉睡：不在预警名单中，而是在生命周期的“沉睡客户”阶段。"),
    "ch_at_risk": ("Customers at risk", "预警客户"),
    "ch_at_risk_help": ("Buyers flagged by the rule below who have not lapsed yet.",
                        "按下方规则标记、且尚未沉睡的购买客户。"),
    "ch_chart": ("Customers at risk per tier", "各等级的预警客户"),
    "ch_rules": ("The rule", "预警规则"),
    "ch_rules_note": ("Usual interval: the customer's own average gap between order days; for one-time buyers "
                      "the median over all repeat buyers. Customers with no order for more than {days} days "
                      "count as lapsed, not at risk.",
                      "平常间隔：客户自己相邻下单日的平均间隔；只买过一次的客户按所有复购客户间隔的中位数计。"
                      "超过 {days} 天未下单的客户算作沉睡，不计入预警。"),
    "ch_list": ("At-risk list", "预警名单"),
    "ch_showing": ("{n} of {total} customers at risk", "显示 {n} / {total} 位预警客户"),
    "ch_none": ("Nobody is at risk with these settings.", "按当前设置没有预警客户。"),
    "risk_high": ("High risk", "高风险"),
    "risk_medium": ("Medium risk", "中风险"),
    "risk_low": ("Low risk", "低风险"),
    "ri_title": ("Rising customers", "上升客户"),
    "ri_intro": ("Customers below {top} whose spend in the second half of the window grew strongly: "
                 "candidates to move up a level.",
                 "{top} 级以下、分析期后半段消费明显增长的客户：有望升级的候选客户。"),
    "ri_trend": ("Spend growth at least", "消费增长至少"),
    "ri_trend_help": ("Second half of the window against the first half; customers who only bought in the "
                      "second half are new, not rising.",
                      "分析期后半段对比前半段；只在后半段购买的客户算作新客户，不算上升客户。"),
    "ri_count": ("{n} customers, each spending at least {floor} in the second half (the median of buyers).",
                 "{n} 位客户，后半段消费均不低于 {floor}（购买客户的中位数）。"),
    "ri_none": ("No customer is rising this strongly.", "没有客户的消费增长达到该幅度。"),
    "lc_title": ("Lifecycle stages", "生命周期阶段"),
    "lc_new_days": ("New / recent within (days)", "新客户/近期（天）"),
    "lc_new_days_help": ("New: first order within this many days; reactivated: a comeback within this many days.",
                         "新客户：首次下单在此天数内；回流客户：在此天数内重新下单。"),
    "lc_chart": ("Customers per tier and lifecycle stage", "各等级的生命周期阶段分布"),
    "lc_rules": ("The stages, tried in this order", "阶段规则（按顺序判断）"),
    "lc_rules_note": ("The first rule that applies gives the stage. Dates count the whole order history up to "
                      "the as-of date.",
                      "按顺序判断，第一条适用的规则决定阶段。日期按截至截止日期的全部订单历史计算。"),
    "stage_prospect": ("Prospect", "潜在客户"),
    "stage_new": ("New", "新客户"),
    "stage_reactivated": ("Reactivated", "回流客户"),
    "stage_lapsed": ("Lapsed", "沉睡客户"),
    "stage_at risk": ("At risk", "流失风险"),
    "stage_active": ("Active", "活跃客户"),
    "pb_title": ("Playbook and follow-ups", "行动手册与跟进"),
    "pb_intro": ("What each level gets: a strategy, a service level and how often to follow up. Edit the "
                 "table; the follow-up list below changes with it.",
                 "每个等级的策略、服务级别和跟进频率。可直接编辑表格，下方的跟进名单随之更新。"),
    "pb_level": ("Level", "等级"),
    "pb_strategy": ("Strategy", "策略"),
    "pb_service": ("Service level", "服务级别"),
    "pb_cadence": ("Follow up every (days)", "跟进周期（天）"),
    "pb_cadence_help": ("Next contact = the last order or the last interaction, whichever is later, plus "
                        "this many days.",
                        "下次联系日期 = 最近一次下单或互动（取较晚者）+ 此天数。"),
    "pb_note": ("{prospect}: customers in the customer list who have not bought yet. Texts are kept per "
                "language; switch the language to edit the other one.",
                "{prospect}：客户名单中尚未购买的客户。文字按语言分别保存；切换语言可编辑另一种语言的文字。"),
    "pb_reset": ("Defaults", "恢复默认"),
    "fu_title": ("Follow-up list", "跟进名单"),
    "fu_overdue": ("Overdue", "已逾期"),
    "fu_due": ("Due within 7 days", "7 天内到期"),
    "fu_scheduled": ("Later", "稍后"),
    "fu_help_overdue": ("The next contact date is before {as_of}.", "下次联系日期早于 {as_of}。"),
    "fu_help_due": ("The next contact date is {as_of} or within 7 days after it.",
                    "下次联系日期为 {as_of} 或之后 7 天内。"),
    "fu_help_scheduled": ("The next contact date is more than 7 days after {as_of}.",
                          "下次联系日期在 {as_of} 之后超过 7 天。"),
    "fu_filter_status": ("Status", "状态"),
    "fu_showing": ("{n} of {total} customers · dates counted from the as-of date {as_of}, overdue first",
                   "显示 {n} / {total} 位客户 · 日期从截止日期 {as_of} 起算，逾期优先"),
    "src_saved": ("Saved", "已保存"),
    "loading_saved": ("Opening {file} from the workspace…", "正在从工作区打开 {file}…"),
    "ws_pick": ("Saved datasets (choose one to open it)", "已保存的数据（选择即可打开）"),
    "ws_item": ("{name} · {lines} lines · {customers} customers · {start} → {end} · saved {saved}",
                "{name} · {lines} 行 · {customers} 位客户 · {start} → {end} · 保存于 {saved}"),
    "ws_none": ("Nothing saved yet. Save the data in use below to open it again after a restart.",
                "还没有保存任何数据。在下方保存当前数据，重启后即可再次打开。"),
    "ws_wait": ("Choose a saved dataset. Until then the data in use stays as it is.",
                "请选择已保存的数据。在此之前继续使用当前数据。"),
    "ws_delete_help": ("Delete this dataset from the workspace (its snapshots are kept).",
                       "从工作区删除该数据（其快照保留）。"),
    "ws_save_title": ("Save the data in use", "保存当前数据"),
    "ws_save_note": ("{file}: order lines, import report and, if attached, the customer list and interactions "
                     "are kept in the workspace; saving under an existing name replaces it.",
                     "{file}：订单明细、导入报告以及已加入的客户名单和互动记录都会保存到工作区；同名保存会覆盖原有数据。"),
    "ws_name": ("Name", "名称"),
    "ws_need_name": ("Give it a name first.", "请先输入名称。"),
    "ws_saved": ("Saved as “{name}”; it is now the data in use.", "已保存为“{name}”，并设为当前数据。"),
    "ws_deleted": ("“{name}” deleted.", "已删除“{name}”。"),
    "ws_failed": ("That did not work: {reason}", "操作未完成：{reason}"),
    "ws_unavailable": ("The workspace file cannot be opened, so nothing can be saved or opened right now.",
                       "无法打开工作区文件，暂时不能保存或打开数据。"),
    "ws_where": ("Workspace file: {path} (set SEGCORE_WORKSPACE to use another).",
                 "工作区文件：{path}（可通过环境变量 SEGCORE_WORKSPACE 指定其他文件）。"),
    "ws_mapping_fixed": ("A saved dataset keeps the columns it was saved with. To change them, upload the file "
                         "again.",
                         "已保存的数据沿用保存时的列对应。如需修改，请重新上传文件。"),
    "set_title": ("Settings", "设置"),
    "set_file_title": ("Settings file", "设置文件"),
    "set_file_note": ("Column choices, as-of date, tier rules, levels and names, weights, segment rules, "
                      "churn settings and the playbook in one JSON file: load it next month, or run "
                      "python -m segcore … --config with it for the same tiers.",
                      "列对应、截止日期、分级规则、等级及名称、权重、分群规则、预警设置和行动手册都保存在一个 JSON 文件中："
                      "下个月加载即可沿用，也可用 python -m segcore … --config 得到相同的分级。"),
    "set_download": ("Download the current settings", "下载当前设置"),
    "set_upload": ("Load settings from a file", "从文件加载设置"),
    "set_upload_help": ("A settings file downloaded from this app (JSON).", "从本应用下载的设置文件（JSON）。"),
    "set_applied": ("Settings from {file} applied.", "已应用 {file} 中的设置。"),
    "set_bad_file": ("{file} cannot be used as a settings file, nothing was changed. {reason}",
                     "{file} 不是可用的设置文件，未做任何更改。{reason}"),
    "set_cannot": ("The current settings cannot be written to a file: {reason}", "当前设置无法写入文件：{reason}"),
    "set_ws_title": ("Named settings in the workspace", "工作区中的命名设置"),
    "set_name": ("Save the current settings as", "将当前设置保存为"),
    "set_name_ph": ("e.g. Monthly review", "例如：月度复盘"),
    "set_saved": ("Settings saved as “{name}”.", "设置已保存为“{name}”。"),
    "set_none": ("No settings saved yet.", "还没有保存任何设置。"),
    "set_pick": ("Saved settings", "已保存的设置"),
    "set_loaded": ("Settings “{name}” applied.", "已应用设置“{name}”。"),
    "set_deleted": ("Settings “{name}” deleted.", "已删除设置“{name}”。"),
    "col_tier_before": ("Level before", "之前等级"),
    "col_tier_after": ("Level after", "之后等级"),
    "col_levels_moved": ("Levels moved", "变动级数"),
    "col_monetary_before": ("Spend before", "之前消费"),
    "col_monetary_after": ("Spend after", "之后消费"),
    "col_risk": ("Risk", "风险"),
    "col_reason": ("Why", "原因"),
    "col_typical_interval_days": ("Usual interval (days)", "平常间隔（天）"),
    "col_overdue_ratio": ("× usual interval", "为平常间隔的倍数"),
    "col_next_tier": ("Next level", "上一级"),
    "col_status": ("Status", "状态"),
    "col_days_overdue": ("Days overdue", "逾期天数"),
    "col_next_contact_date": ("Next contact", "下次联系"),
    "col_cadence_days": ("Cadence (days)", "跟进周期（天）"),
    "col_service_level": ("Service level", "服务级别"),
    "col_strategy": ("Strategy", "策略"),
    "col_stage": ("Stage", "阶段"),
    "col_rule": ("Rule", "规则"),
}

#: Tier name presets offered in the sidebar (names are data, shown as they are).
# Quick level names for 2 to 5 levels, and the prospect level's name ("" = the language's default).
PRESETS = {
    "abc": ({n: tuple("ABCDE"[:n]) for n in range(2, 6)}, ""),
    "metal_en": ({2: ("Diamond", "Silver"), 3: ("Diamond", "Silver", "Bronze"),
                  4: ("Diamond", "Gold", "Silver", "Bronze"),
                  5: ("Diamond", "Platinum", "Gold", "Silver", "Bronze")}, "Iron"),
    "metal_zh": ({2: ("金钻", "白银"), 3: ("金钻", "白银", "铜"), 4: ("金钻", "黄金", "白银", "铜"),
                  5: ("金钻", "铂金", "黄金", "白银", "铜")}, "铁"),
}


def lang() -> str:
    return st.session_state.get("s_lang", "en")


def t(key: str, **params) -> str:
    """The text ``key`` in the current language, formatted with ``params``."""
    text = TEXT[key][1 if lang() == "zh" else 0]
    return text.format(**params) if params else text


def labeller(labels: dict):
    """A format function for a widget: the label of an option, else the option itself.

    Labels are looked up when the widget is drawn, so the function does not depend on the
    language at the time it is called later."""
    return lambda option: labels.get(option, str(option))


def col_label(name: str) -> str:
    """Column header for a column name (attribute columns the table does not know stay as they are)."""
    key = f"col_{name}"
    return t(key) if key in TEXT else str(name)


def report_notes(report: segcore.IngestReport) -> list[str]:
    """Remarks on how the file was read (the sheet of a workbook, mixed encodings ...), translated."""
    notes = [t(f"note_{n['code']}", **{k: fmt_int(v) if isinstance(v, int) else v for k, v in n["params"].items()})
             if f"note_{n['code']}" in TEXT else n["message"] for n in report.notes]
    if report.sheet and len(report.sheets) > 1:
        notes.insert(0, t("note_sheet", sheet=report.sheet,
                          others=t("list_sep").join(s for s in report.sheets if s != report.sheet)))
    return notes


def reason_label(reason: str) -> str:
    key = f"reason_{reason}"
    return t(key) if key in TEXT else str(reason)


# --------------------------------------------------------------------------------------------
# Number formatting
# --------------------------------------------------------------------------------------------

def is_missing(x) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x)) or x is pd.NA or x is pd.NaT


def fmt_int(x) -> str:
    return t("na") if is_missing(x) else f"{int(x):,}"


def fmt_money(x, decimals: int = 2) -> str:
    return t("na") if is_missing(x) else f"{float(x):,.{decimals}f}"


def fmt_pct(x, decimals: int = 1) -> str:
    return t("na") if is_missing(x) else f"{float(x) * 100:.{decimals}f}%"


def fmt_compact(x) -> str:
    """Short money: 8.12M / 812.5万; below 10,000 the whole number."""
    if is_missing(x):
        return t("na")
    x = float(x)
    a = abs(x)
    if a < 10_000:
        return f"{x:,.0f}"
    if lang() == "zh":
        return f"{x / 1e8:,.2f}亿" if a >= 1e8 else f"{x / 1e4:,.1f}万"
    if a >= 1e9:
        return f"{x / 1e9:,.2f}B"
    return f"{x / 1e6:,.2f}M" if a >= 1e6 else f"{x / 1e3:,.1f}K"


def fmt_short(x: float) -> str:
    """Bin edge: 500, 1K, 20K, 1.5M / 500, 1000, 2万."""
    if x == 0:
        return "0"
    a = abs(x)
    if lang() == "zh":
        if a >= 1e8:
            return f"{x / 1e8:g}亿"
        if a >= 1e4:
            return f"{x / 1e4:g}万"
        return f"{x:g}"
    for size, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "K")):
        if a >= size:
            return f"{x / size:g}{suffix}"
    return f"{x:g}"


def fmt_number(x, decimals: int = 0) -> str:
    return t("na") if is_missing(x) else f"{float(x):,.{decimals}f}"


def fmt_days(x) -> str:
    return t("na") if is_missing(x) else t("days", n=f"{float(x):,.0f}")


def fmt_date(d) -> str:
    if is_missing(d):
        return t("na")
    return d.strftime("%Y-%m-%d") if hasattr(d, "strftime") else str(d)


def fmt_size(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:,.0f} {unit}" if unit == "B" else f"{n:,.1f} {unit}"
        n /= 1024
    return str(n)


def fmt_bin(lo, hi, integer: bool) -> str:
    """Label of a histogram bin ``lo <= v < hi`` (``lo`` None: ``v <= hi``)."""
    if is_missing(lo):
        return "≤ " + fmt_short(hi) if not integer or hi != 0 else "0"
    if integer:
        lo_i, hi_i = int(math.ceil(lo)), int(math.ceil(hi)) - 1
        return str(lo_i) if lo_i >= hi_i else f"{lo_i}–{hi_i}"
    if lo == 0:
        return "< " + fmt_short(hi)
    return f"{fmt_short(lo)}–{fmt_short(hi)}"


# --------------------------------------------------------------------------------------------
# Files and datasets
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class FileRef:
    """A file the app reads: its name as the user knows it, where it is, and its content hash."""

    name: str
    path: str
    sha: str
    size: int


@dataclass(frozen=True)
class Spec:
    """Everything that decides a loaded dataset (the cache key is made of it)."""

    orders: FileRef
    customers: FileRef | None = None
    interactions: FileRef | None = None
    mapping: tuple[tuple[str, str], ...] = ()
    customers_mapping: tuple[tuple[str, str], ...] = ()     # the user's column choices for the side files
    interactions_mapping: tuple[tuple[str, str], ...] = ()
    date_order: str | None = None
    drop_duplicates: bool = False
    sample: bool = False
    saved: str | None = None  # the name of a dataset opened from the workspace (orders.path = its file)

    @property
    def key(self) -> str:
        parts = (self.orders.sha, self.mapping, self.date_order, self.drop_duplicates,
                 self.customers.sha if self.customers else None,
                 self.interactions.sha if self.interactions else None,
                 self.customers_mapping, self.interactions_mapping)
        return hashlib.sha256(repr(parts).encode()).hexdigest()[:16]


class LoadFailure(Exception):
    """A file of a spec could not be used: which one, the engine's error, and the file's headers."""

    def __init__(self, role: str, file: FileRef, error: Exception, headers: list[str] | None = None):
        super().__init__(str(error))
        self.role, self.file, self.error, self.headers = role, file, error, headers


@st.cache_data(show_spinner=False, max_entries=32)
def _file_sha(path: str, mtime: float, size: int) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def file_ref(path) -> FileRef:
    """A :class:`FileRef` for a file on disk (its hash is cached by path, time and size)."""
    path = Path(path)
    stat = path.stat()
    return FileRef(path.name, str(path), _file_sha(str(path), stat.st_mtime, stat.st_size), stat.st_size)


def sample_refs() -> dict[str, FileRef | None]:
    refs = {}
    for role in ("orders", "customers", "interactions"):
        path = SAMPLE_DIR / f"{role}.csv"
        refs[role] = file_ref(path) if path.exists() else None
    return refs


def save_upload(uploaded, progress=None) -> FileRef:
    """Write an uploaded file to disk in chunks (no extra copy in memory) and hash it on the way.

    The file lands in ``UPLOAD_DIR/<sha256>/<original name>`` so the engine's messages name it as
    the user does. ``progress(fraction)`` is called after every chunk.
    """
    UPLOAD_DIR.mkdir(parents=True, exist_ok=True)
    name = re.sub(r"[\\/:*?\"<>|\x00-\x1f]", "_", os.path.basename(uploaded.name)) or "upload"
    size = getattr(uploaded, "size", None) or 0
    digest = hashlib.sha256()
    fd, tmp = tempfile.mkstemp(dir=UPLOAD_DIR, prefix="upload-")
    uploaded.seek(0)
    done = 0
    with os.fdopen(fd, "wb") as out:
        while chunk := uploaded.read(CHUNK):
            digest.update(chunk)
            out.write(chunk)
            done += len(chunk)
            if progress and size:
                progress(min(done / size, 1.0))
    sha = digest.hexdigest()
    folder = UPLOAD_DIR / sha
    folder.mkdir(exist_ok=True)
    final = folder / name
    os.replace(tmp, final)
    os.utime(folder)  # a file uploaded again counts as new
    _prune_uploads(keep=folder)
    return FileRef(name, str(final), sha, done)


def _prune_uploads(keep: Path) -> None:
    """Delete uploads untouched for ``UPLOAD_KEEP_DAYS`` days (a session still showing one falls
    back to the sample; datasets saved in the workspace are kept there, not here)."""
    cutoff = time.time() - UPLOAD_KEEP_DAYS * 86400
    for folder in UPLOAD_DIR.iterdir():
        try:
            if folder != keep and folder.is_dir() and folder.stat().st_mtime < cutoff:
                shutil.rmtree(folder, ignore_errors=True)
        except OSError:  # removed meanwhile by another session
            continue


def _headers_of(path: str) -> list[str] | None:
    try:
        headers, _, _ = segcore.read_table(duckdb.connect(), path)
        return headers
    except Exception:  # the file is unreadable: the error already says so
        return None


@st.cache_resource(show_spinner=False, max_entries=4)
def _load_dataset(key: str, _spec: Spec) -> segcore.Dataset:
    """Read, parse and attach the files of a spec (cached per ``key``, which hashes the spec)."""
    spec = _spec
    if spec.saved is not None:
        return _open_saved(spec)
    try:
        ds = segcore.load_orders(spec.orders.path, dict(spec.mapping) or None,
                                 date_order=spec.date_order, drop_duplicates=spec.drop_duplicates)
        if not ds.has("amount"):  # the engine reads a file without amounts count-only; the pages do not yet
            raise segcore.IngestError("missing_field", f"No column for the amount was found in {spec.orders.name}.",
                                      fields=["amount"], columns=ds.headers)
    except Exception as exc:
        params = getattr(exc, "params", {}) or {}
        headers = params.get("columns")
        if headers is None and getattr(exc, "code", None) in ("all_rejected", "unknown_column"):
            headers = _headers_of(spec.orders.path)
        raise LoadFailure("orders", spec.orders, exc, headers) from exc
    for role, loader in (("customers", segcore.load_customers),
                         ("interactions", segcore.load_interactions)):
        ref = getattr(spec, role)
        if ref is None:
            continue
        try:
            loader(ds, ref.path, dict(getattr(spec, f"{role}_mapping")) or None)
        except Exception as exc:
            headers = (getattr(exc, "params", {}) or {}).get("columns") or _headers_of(ref.path)
            raise LoadFailure(role, ref, exc, headers) from exc
    return ds


def load(spec: Spec, *, show_progress: bool = True) -> tuple[segcore.Dataset | None, LoadFailure | None]:
    """The dataset of ``spec`` (cached), or the reason it cannot be used (remembered per session)."""
    failed = st.session_state.setdefault("_failed", {})
    if spec.key in failed:
        return None, failed[spec.key]
    loaded = st.session_state.setdefault("_loaded", set())
    box = st.empty() if show_progress and spec.key not in loaded else None
    try:
        if box is not None:
            with box.status(t("loading_saved", file=spec.orders.name) if spec.saved else
                            t("loading", file=spec.orders.name, size=fmt_size(spec.orders.size)),
                            expanded=False):
                ds = _load_dataset(spec.key, spec)
            box.empty()
        else:
            ds = _load_dataset(spec.key, spec)
    except LoadFailure as failure:
        if box is not None:
            box.empty()
        failed[spec.key] = failure
        return None, failure
    loaded.add(spec.key)
    return ds, None


# --------------------------------------------------------------------------------------------
# Session state
# --------------------------------------------------------------------------------------------

CUT_KEYS = "abcd"  # cut slider i of a level count is keyed s_cut_<CUT_KEYS[i]>_<kind>
CUT_KINDS = ("value", "count", "score")  # Pareto by spend, Pareto by head count, weighted score

DEFAULTS = {
    "s_lang": "en",
    "s_method": "pareto",
    "s_levels": 3,
    "s_by": "value",
    **{f"s_label_{i}": "ABCDE"[i] for i in range(5)},
    **{f"s_cut_{CUT_KEYS[i]}_{kind}": round(100 * share) for kind, shares in (
        ("value", segcore.DEFAULT_CUTS[3]), ("count", DEFAULT_SCORE_CUTS[3]), ("score", DEFAULT_SCORE_CUTS[3]))
       for i, share in enumerate(shares)},
    "s_score_points": 5,
    "s_weights": {},
    "s_custom_cuts": {},
    "s_segment_rules": [],
    "s_filters": {},
    "s_sg_attr": None,
    "s_sg_mix": "tier",
    "s_sg_share": True,
    "s_prospect_label": "",  # empty: the language's default name (Iron / 铁)
    "s_source": "sample",
    "s_date_order": "auto",
    "s_drop_dup": False,
    "s_cust_tiers": [],
    "s_cust_search": "",
    "s_cust_sort": "rank",
    "s_cust_desc": False,
    "s_cust_selected": None,
    "s_dl_scope": "filter",
}


def init_state() -> None:
    ss = st.session_state
    for key, value in DEFAULTS.items():
        if key not in ss:
            ss[key] = type(value)(value) if isinstance(value, (list, dict)) else value
    ss.setdefault("s_uploads", {"orders": None, "customers": None, "interactions": None})
    ss.setdefault("s_mapping", {"for": None, "overrides": {}})
    ss.setdefault("s_window_for", None)
    ss.setdefault("s_as_of", None)
    ss.setdefault("s_since", None)
    if "s_active" not in ss:
        ss["s_active"] = sample_spec()


def bound(widget, setting: str, *args, after=None, **kwargs):
    """Render ``widget`` bound to the setting ``s_<name>`` under the widget key ``w_<name>``;
    ``after()`` runs once the setting took a value the user gave."""
    ss = st.session_state
    wkey = "w_" + setting[2:]
    # Seed only when needed: re-assigning an equal value would push it back to the browser and
    # could undo a change the user is making right now (e.g. several arrow-key presses on a slider).
    # A page switch or a new language may give the widget a new identity: then seed it always.
    if ss.get("_reseed") or wkey not in ss or ss[wkey] != ss[setting]:
        ss[wkey] = ss[setting]

    def _save():
        ss[setting] = ss[wkey]
        if after is not None:
            after()

    return widget(*args, key=wkey, on_change=_save, **kwargs)


def setup(title_key: str) -> None:
    """Page config and session defaults; the first call of every page."""
    init_state()
    ss = st.session_state
    view = (title_key, ss["s_lang"])
    ss["_reseed"] = ss.get("_view") != view
    ss["_view"] = view
    st.set_page_config(page_title=f"{t(title_key)} · {t('app_title')}", page_icon=":material/leaderboard:",
                       layout="wide", initial_sidebar_state="expanded")
    st.html(_CSS)


# KPI cards (containers keyed card_*): smaller numbers and labels that wrap instead of being cut.
_CSS = """<style>
[class*="st-key-card_"] [data-testid="stMetricValue"] { font-size: 1.5rem; }
.st-key-card_profile [data-testid="stMetricValue"] { font-size: 1.3rem; }
[class*="st-key-card_"] [data-testid="stMetricLabel"] p { white-space: normal; overflow: visible; }
[class*="st-key-card_"] [data-testid="stMetricLabel"] div { overflow: visible; }
</style>"""


def sample_spec(**changes) -> Spec:
    refs = sample_refs()
    return Spec(orders=refs["orders"], customers=refs["customers"],
                interactions=refs["interactions"], sample=True, **changes)


def overrides_for(sha: str) -> dict[str, str]:
    """The user's column choices for the orders file with hash ``sha`` (reset for a new file)."""
    mapping = st.session_state["s_mapping"]
    if mapping["for"] != sha:
        mapping["for"], mapping["overrides"] = sha, {}
    return mapping["overrides"]


def side_overrides(sha: str) -> dict[str, str]:
    """The user's column choices for a customers or interactions file (by its content hash)."""
    return st.session_state.setdefault("s_side_mapping", {}).setdefault(sha, {})


def candidate_spec() -> Spec | None:
    """The spec the data page asks for (sample, or the uploaded files), with the column choices."""
    ss = st.session_state
    if ss["s_source"] == "saved":
        return saved_spec(ss["s_ws_dataset"])
    if ss["s_source"] == "sample":
        refs = sample_refs()
    else:
        refs = ss["s_uploads"]
        if refs.get("orders") is None:
            return None
    orders = refs["orders"]
    side = {f"{role}_mapping": tuple(sorted(side_overrides(refs[role].sha).items()))
            for role in SIDE_FIELDS if refs.get(role) is not None}
    return Spec(orders=orders, customers=refs.get("customers"), interactions=refs.get("interactions"),
                mapping=tuple(sorted(overrides_for(orders.sha).items())), **side,
                date_order=None if ss["s_date_order"] == "auto" else ss["s_date_order"],
                drop_duplicates=ss["s_drop_dup"],
                sample=ss["s_source"] == "sample")


# --------------------------------------------------------------------------------------------
# Context: the dataset, its metrics and the current tiers
# --------------------------------------------------------------------------------------------

@dataclass
class Ctx:
    spec: Spec
    ds: segcore.Dataset
    start: date
    as_of: date
    metrics: pd.DataFrame
    rules: segcore.TierRules
    tiered: pd.DataFrame
    summary: pd.DataFrame
    levels: tuple[str, ...]
    colors: dict[str, str]
    labels_ok: bool = True
    score_cuts: pd.DataFrame | None = None  # per dimension: cut points and customers per score

    @property
    def labels(self) -> tuple[str, ...]:
        return self.rules.labels

    @property
    def has_prospects(self) -> bool:
        return self.rules.prospect_label in self.levels

    def cursor(self):
        """A DuckDB cursor for one query from this thread."""
        return self.ds.con.cursor()

    def color(self, tier: str) -> str:
        return self.colors.get(tier, PROSPECT_COLOR)


@st.cache_data(show_spinner=False, max_entries=16)
def _metrics(key: str, as_of: date, since: date, _ds: segcore.Dataset) -> pd.DataFrame:
    return segcore.customer_metrics(_ds.con.cursor(), as_of=as_of, since=since)


def level_count() -> int:
    """Levels in use: the chosen 2 to 5, or 3 for the computed ABC analysis."""
    ss = st.session_state
    return 3 if ss["s_method"] == "computed" else int(ss["s_levels"])


def cut_kind() -> str:
    """Which cut sliders apply: ``value`` / ``count`` (Pareto by spend / head count) or ``score``."""
    ss = st.session_state
    return "score" if ss["s_method"] == "score" else ss["s_by"]


def current_labels() -> tuple[tuple[str, ...], str, bool]:
    """(labels, prospect label, valid): the typed level names, or A/B/C... + Iron when not usable."""
    ss = st.session_state
    n = level_count()
    labels = tuple(str(ss[f"s_label_{i}"]).strip() for i in range(n))
    prospect = str(ss["s_prospect_label"]).strip() or t("prospect_default")
    names = [*labels, prospect]
    if all(names) and len(set(names)) == len(names):
        return labels, prospect, True
    return PRESETS["abc"][0][n], t("prospect_default"), False


def current_cuts(kind: str | None = None) -> tuple[float, ...]:
    """The cut shares of one set of sliders (default: the set in use), one fewer than the levels,
    as fractions."""
    ss = st.session_state
    kind = kind or cut_kind()
    return tuple(ss[f"s_cut_{CUT_KEYS[i]}_{kind}"] / 100 for i in range(level_count() - 1))


def current_rules() -> tuple[segcore.TierRules, bool]:
    ss = st.session_state
    labels, prospect, ok = current_labels()
    weights = tuple(sorted((k, float(v)) for k, v in ss["s_weights"].items()))
    return segcore.TierRules(labels=labels, cuts=current_cuts(), by=ss["s_by"], prospect_label=prospect,
                             method=ss["s_method"], weights=weights,
                             score_points=int(ss["s_score_points"])), ok


def tier_settings() -> dict:
    """The tiering fields of :class:`segcore.Settings` as the session has them."""
    ss = st.session_state
    rules, _ = current_rules()
    return {"method": rules.method, "by": rules.by, "labels": rules.labels,
            "prospect_label": str(ss["s_prospect_label"]).strip() or PRESETS["metal_en"][1],
            "cuts": rules.cuts if rules.method != "computed" else None,
            "weights": dict(ss["s_weights"]), "score_points": rules.score_points,
            "custom_cut_points": {k: list(v) for k, v in ss["s_custom_cuts"].items()},
            "segment_rules": [dict(r) for r in ss["s_segment_rules"]]}


def apply_tier_settings(settings: segcore.Settings) -> None:
    """Put the tiering fields of ``settings`` into the session (the reverse of :func:`tier_settings`)."""
    ss = st.session_state
    n = len(settings.labels)
    ss["s_method"], ss["s_by"] = settings.method, settings.by
    ss["s_levels"] = n
    for i, label in enumerate(settings.labels):
        ss[f"s_label_{i}"] = label
    ss["s_prospect_label"] = "" if settings.prospect_label in ("Iron", "铁") else settings.prospect_label
    if settings.method != "computed":
        _reset_cuts(n)
        kind = "score" if settings.method == "score" else settings.by
        rules = settings.tier_rules()
        for i, share in enumerate(rules.cuts):
            ss[f"s_cut_{CUT_KEYS[i]}_{kind}"] = round(100 * share)
    ss["s_weights"] = dict(settings.weights)
    ss["s_score_points"] = settings.score_points
    ss["s_custom_cuts"] = {k: list(v) for k, v in settings.custom_cut_points.items()}
    ss["s_segment_rules"] = [dict(r) for r in settings.segment_rules]


def _reset_cuts(n: int) -> None:
    """Every cut slider to the default shares for ``n`` levels."""
    ss = st.session_state
    for kind in CUT_KINDS:
        shares = segcore.DEFAULT_CUTS[n] if kind == "value" else DEFAULT_SCORE_CUTS[n]
        for i, share in enumerate(shares):
            ss[f"s_cut_{CUT_KEYS[i]}_{kind}"] = round(100 * share)


def scored_metrics(key: tuple, metrics: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(metrics + scores, segment and weighted score; the score cut table) for the session's
    score settings, memoised: a tier slider move does not re-score."""
    ss = st.session_state
    custom = {k: tuple(v) for k, v in ss["s_custom_cuts"].items()}
    signature = (key, int(ss["s_score_points"]), tuple(sorted(custom.items())),
                 tuple(sorted(ss["s_weights"].items())), repr(ss["s_segment_rules"]))
    memo = ss.get("_scores")
    if memo is None or memo[0] != signature:
        scored, cut_table = segcore.add_scores(metrics, n=int(ss["s_score_points"]), custom_cuts=custom or None,
                                               weights=dict(ss["s_weights"]) or None,
                                               rules=ss["s_segment_rules"] or None)
        memo = ss["_scores"] = (signature, scored, cut_table)
    return memo[1], memo[2]


def active() -> tuple[Spec, segcore.Dataset]:
    """The dataset the pages show: the last one that loaded (the sample at first)."""
    ss = st.session_state
    spec = ss["s_active"]
    ds, failure = load(spec)
    if ds is None:  # e.g. an uploaded file was cleaned away: back to the sample
        spec = ss["s_active"] = sample_spec()
        ds, failure = load(spec)
        if ds is None:
            raise failure
    return spec, ds


def _window(spec: Spec, ds: segcore.Dataset) -> tuple[date, date]:
    """(window start, as-of date) for the dataset: reset to its full range when it changes."""
    ss = st.session_state
    lo, hi = ds.report.date_min, ds.report.date_max
    if ss["s_window_for"] != spec.key:
        ss["s_window_for"], ss["s_as_of"], ss["s_since"] = spec.key, hi, lo
    as_of = min(max(ss["s_as_of"] or hi, lo), hi)
    since = min(max(ss["s_since"] or lo, lo), as_of)
    ss["s_as_of"], ss["s_since"] = as_of, since
    return since, as_of


def context(show_sidebar: bool = True) -> Ctx:
    """Load the active dataset, draw the sidebar and tier the customers with the current settings."""
    spec, ds = active()
    since, as_of = _window(spec, ds)
    if show_sidebar:
        sidebar(spec, ds)
        since, as_of = _window(spec, ds)
    metrics = _metrics(spec.key, as_of, since, ds)
    scored, cut_table = scored_metrics((spec.key, as_of, since), metrics)
    rules, labels_ok = current_rules()
    memo = st.session_state.get("_tiers")
    signature = (st.session_state["_scores"][0], rules)
    if memo is not None and memo[0] == signature:
        tiered, summary = memo[1], memo[2]
    else:
        tiered = segcore.assign_tiers(scored, rules)
        summary = segcore.tier_summary(tiered, rules.labels)
        st.session_state["_tiers"] = (signature, tiered, summary)
    levels = tuple(summary["tier"])
    colors = {label: TIER_COLORS[i] for i, label in enumerate(rules.labels)}
    colors[rules.prospect_label] = PROSPECT_COLOR
    return Ctx(spec=spec, ds=ds, start=since, as_of=as_of, metrics=scored, rules=rules,
               tiered=tiered, summary=summary, levels=levels, colors=colors, labels_ok=labels_ok,
               score_cuts=cut_table)


def page(title_key: str) -> Ctx:
    """Start a view page: config, state, sidebar, and the current tiers."""
    setup(title_key)
    return context()


# --------------------------------------------------------------------------------------------
# Sidebar
# --------------------------------------------------------------------------------------------

def _apply_preset(name: str) -> None:
    names, prospect = PRESETS[name]
    n = level_count()
    for i, label in enumerate((*names[n], *names[5][n:])):  # the set for n levels; the rest for later
        st.session_state[f"s_label_{i}"] = label
    st.session_state["s_prospect_label"] = prospect


def _clamp_cuts() -> None:
    """Keep every slider set increasing: each cut at least the one before (the first at least 1%)."""
    ss = st.session_state
    for kind in CUT_KINDS:
        low = 1
        for letter in CUT_KEYS[:level_count() - 1]:
            key = f"s_cut_{letter}_{kind}"
            ss[key] = low = min(max(int(ss[key]), low), 100)


def _levels_changed() -> None:
    """New level count: default cut shares, and names of a quick set follow (金钻/白银/铜 -> 金钻/黄金/白银/铜)."""
    ss = st.session_state
    n = level_count()
    _reset_cuts(n)
    for names, _ in PRESETS.values():
        if str(ss["s_label_0"]).strip() == names[n][0]:
            for i, label in enumerate(names[n]):
                ss[f"s_label_{i}"] = label
            break


def _suggest(spec: Spec, ds: segcore.Dataset, labels: tuple[str, ...]) -> None:
    """Set the A/B sliders (by spend, three levels) from the computed ABC analysis; say why."""
    ss = st.session_state
    since, as_of = _window(spec, ds)
    found = segcore.suggest_cuts(_metrics(spec.key, as_of, since, ds))
    ss["s_method"], ss["s_by"], ss["s_levels"] = "pareto", "value", 3
    ss["s_cut_a_value"] = min(max(round(100 * found.a_share), 1), 99)
    ss["s_cut_b_value"] = min(max(round(100 * found.b_share), ss["s_cut_a_value"]), 100)
    ss["_flash_suggest"] = t("suggested", a=labels[0], b=labels[1], ab=fmt_money(found.a_limit),
                             bc=fmt_money(found.b_limit), a_share=fmt_pct(ss["s_cut_a_value"] / 100, 0),
                             b_share=fmt_pct(ss["s_cut_b_value"] / 100, 0))


def sidebar(spec: Spec, ds: segcore.Dataset) -> None:
    ss = st.session_state
    with st.sidebar:
        st.markdown(f"### :material/leaderboard: {t('app_title')}")
        for name, path in PAGES.items():
            st.page_link(path, label=t(f"nav_{name}"), icon=PAGE_ICONS[name])
        bound(st.segmented_control, "s_lang", t("language"), options=list(LANGS),
              format_func=LANGS.get, required=True)

        st.divider()
        st.markdown(f"**{t('sb_data')}**")
        rep = ds.report
        name = t("sb_sample") if spec.sample else spec.orders.name
        st.caption(f"{name}  \n" + t("sb_lines", rows=fmt_int(rep.rows_used), customers=fmt_int(rep.customers))
                   + "  \n" + t("sb_dates", start=fmt_date(rep.date_min), end=fmt_date(rep.date_max))
                   + "  \n" + t("sb_extras",
                                customers=t("sb_yes") if spec.customers else t("sb_no"),
                                interactions=t("sb_yes") if spec.interactions else t("sb_no")))

        st.divider()
        st.markdown(f"**{t('sb_tiers')}**")
        methods = ("pareto", "score", "computed")
        bound(st.segmented_control, "s_method", t("method_label"), options=methods, required=True,
              format_func=labeller({m: t(f"method_{m}") for m in methods}), help=t("method_help"))
        method = ss["s_method"]
        if method == "computed":
            st.caption(t("levels_computed"))
        else:
            bound(st.segmented_control, "s_levels", t("levels_label"), options=[2, 3, 4, 5], required=True,
                  after=_levels_changed)
        if method == "pareto":
            bound(st.segmented_control, "s_by", t("by_label"), options=["value", "count"],
                  format_func=labeller({v: t(f"by_{v}") for v in ("value", "count")}), required=True)
        labels, prospect, _ = current_labels()
        kind = cut_kind()
        # Fixed slider bounds (a cut below the one before is clamped back): bounds that follow
        # another slider would give it a new identity on every move of that slider, and quick
        # arrow-key presses could then reset it.
        for i in range(len(labels) - 1 if method != "computed" else 0):
            _clamp_cuts()
            label = (t("cut_value", label=labels[i]) if kind == "value"
                     else t(f"cut_{kind}", labels=" + ".join(labels[:i + 1])))
            bound(st.slider, f"s_cut_{CUT_KEYS[i]}_{kind}", label, min_value=1, max_value=100, step=1,
                  format="%d%%", help=t(f"cut_help_{kind}", a=labels[0]))
        if method == "pareto" and kind == "value" and len(labels) == 3:
            st.button(t("suggest"), key="w_suggest", icon=":material/auto_awesome:", help=t("suggest_help"),
                      on_click=_suggest, args=(spec, ds, labels))
        if ss.get("_flash_suggest"):
            st.info(ss.pop("_flash_suggest"), icon=":material/auto_awesome:")

        lo, hi = ds.report.date_min, ds.report.date_max
        _window(spec, ds)
        bound(st.date_input, "s_as_of", t("as_of"), min_value=lo, max_value=hi,
              help=t("as_of_help"))
        _window(spec, ds)
        bound(st.date_input, "s_since", t("since"), min_value=lo, max_value=ss["s_as_of"],
              help=t("since_help"))

        with st.expander(t("labels")):
            n = level_count()
            for row in range(0, n, 3):
                for i, col in zip(range(row, n), st.columns(3)):
                    with col:
                        bound(st.text_input, f"s_label_{i}", t("label_n", n=i + 1), max_chars=20)
            if spec.customers is not None:
                wkey = "w_prospect_label"
                if ss.get("_reseed") or wkey not in ss or ss[wkey] != prospect:
                    ss[wkey] = prospect  # the name in use (the language's default until edited)
                st.text_input(t("prospect_label"), key=wkey, max_chars=20,
                              on_change=lambda: ss.__setitem__("s_prospect_label", ss[wkey]))
            st.caption(t("presets"))
            for name in PRESETS:
                st.button(" / ".join(PRESETS[name][0][n]), key=f"w_preset_{name}", type="tertiary",
                          on_click=_apply_preset, args=(name,), icon=":material/sell:")
        _, _, ok = current_labels()
        if not ok:
            st.warning(t("labels_invalid", labels=" / ".join(PRESETS["abc"][0][level_count()])))


# --------------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------------

def failure_message(failure: LoadFailure) -> str:
    """One translated sentence for a file that cannot be used."""
    err, name = failure.error, failure.file.name
    code = getattr(err, "code", None)
    params = getattr(err, "params", {}) or {}
    sep = t("list_sep")
    if code in ("empty", "binary", "unreadable", "too_big"):
        return t(f"err_{code}", file=name)
    if code == "no_columns":
        cols = params.get("columns") or ["?"]
        return t("err_no_columns", file=name, column=cols[0])
    if code == "missing_field":
        fields = [t("or_qp") if f == "amount" else
                  t(f"field_{f}") if f"field_{f}" in TEXT else f.replace("_", " ")
                  for f in params.get("fields", [])]
        fields = [f.lower() if lang() == "en" else f for f in fields]
        columns = sep.join(str(c) for c in params.get("columns", []))
        fix = (t("err_fix_mapping") if failure.role == "orders"
               else t("err_fix_side", what=t(f"what_{failure.role}")))
        return t("err_missing_field", fields=t("and").join(fields), file=name, columns=columns) + " " + fix
    if code == "all_rejected":
        reasons = sep.join(f"{fmt_int(n)} {reason_label(r)}" for r, n in (params.get("rejected") or {}).items())
        return (t("err_all_rejected", rows=fmt_int(params.get("rows", 0)), file=name, reasons=reasons)
                + " " + t("err_fix_mapping"))
    if code == "unknown_column":
        return t("err_unknown_column", column=params.get("column", "?"), file=name)
    return t("err_other", file=name)


def show_failure(failure: LoadFailure) -> None:
    st.error(f"**{t('err_title')}**  \n{failure_message(failure)}", icon=":material/error:")
    with st.expander(t("err_details")):
        st.code(f"{type(failure.error).__name__}: {failure.error}", language=None)


# --------------------------------------------------------------------------------------------
# Charts (plotly): tier colours are fixed by position, the same on every page
# --------------------------------------------------------------------------------------------

_CONFIG = {"displaylogo": False, "modeBarButtonsToRemove": ["lasso2d", "select2d"]}


def show(fig: go.Figure, key: str) -> None:
    st.plotly_chart(fig, key=key, config=_CONFIG)


def _layout(fig: go.Figure, title: str, x: str, y: str, height: int = 380, legend: bool = True) -> go.Figure:
    fig.update_layout(
        title=dict(text=title, x=0, xanchor="left", font=dict(size=16)),
        xaxis=dict(title=dict(text=x)), yaxis=dict(title=dict(text=y)),
        height=height, margin=dict(l=10, r=10, t=60, b=10), showlegend=legend,
        legend=dict(orientation="h", yanchor="bottom", y=1.0, xanchor="right", x=1,
                    title=dict(text=""), traceorder="normal"),
        hoverlabel=dict(namelength=-1))
    return fig


def pareto_figure(ctx: Ctx, highlight: pd.DataFrame | None = None, height: int = 440) -> go.Figure:
    """Cumulative revenue share against cumulative customer share, tier bands and cut points."""
    points = views.pareto_points(ctx.tiered)
    cuts = views.pareto_cuts(ctx.tiered)
    fig = go.Figure()
    for row in cuts.itertuples():
        fig.add_vrect(x0=row.customer_share_start, x1=row.customer_share_end, fillcolor=ctx.color(row.tier),
                      opacity=0.16, line_width=0, layer="below")
    fig.add_trace(go.Scatter(x=[0, 1], y=[0, 1], mode="lines", name=t("pareto_equal"),
                             line=dict(color="#B0BEC5", dash="dot", width=1.5), hoverinfo="skip"))
    hover = [t("pareto_hover", x=fmt_pct(x), y=fmt_pct(y))
             for x, y in zip(points["customer_share"], points["revenue_share"])]
    fig.add_trace(go.Scatter(x=points["customer_share"], y=points["revenue_share"], mode="lines",
                             name=t("pareto_curve"), line=dict(color=CURVE_COLOR, width=3),
                             text=hover, hovertemplate="%{text}<extra></extra>"))
    last = len(cuts) - 1
    for i, row in enumerate(cuts.itertuples()):
        color = ctx.color(row.tier)
        label = t("pareto_cut", tier=row.tier, x=fmt_pct(row.customer_share_end), y=fmt_pct(row.revenue_share_end))
        fig.add_trace(go.Scatter(x=[row.customer_share_end], y=[row.revenue_share_end], mode="markers",
                                 name=str(row.tier), marker=dict(size=12, color=color, line=dict(color="white", width=2)),
                                 hovertemplate=label + "<extra></extra>", showlegend=False))
        if i < last and highlight is None:
            right = row.customer_share_end < 0.6  # keep the label inside the plot
            fig.add_annotation(x=row.customer_share_end, y=row.revenue_share_end, text=label,
                               showarrow=True, arrowhead=0, ax=40 if right else -40, ay=28 + 22 * i,
                               xanchor="left" if right else "right",
                               font=dict(size=13, color=CURVE_COLOR),
                               bgcolor="rgba(255,255,255,0.85)", bordercolor=color, borderwidth=1.5)
    if highlight is not None and len(highlight):
        row = highlight.iloc[0]
        fig.add_trace(go.Scatter(x=[row["customer_share"]], y=[row["revenue_share"]], mode="markers+text",
                                 name=t("position_point", id=row["customer_id"], rank=fmt_int(row["rank"])),
                                 text=[str(row["customer_id"])], textposition="bottom right",
                                 marker=dict(size=16, symbol="star", color=RETURN_COLOR,
                                             line=dict(color="white", width=1.5)),
                                 hovertemplate=t("pareto_hover", x=fmt_pct(row["customer_share"]),
                                                 y=fmt_pct(row["revenue_share"])) + "<extra></extra>"))
    _layout(fig, t("pareto_title") if highlight is None else t("position_title"),
            t("pareto_x"), t("pareto_y"), height=height, legend=highlight is None)
    fig.update_xaxes(tickformat=".0%", range=[0, 1], dtick=0.1)
    fig.update_yaxes(tickformat=".0%", range=[0, 1.03], dtick=0.2)
    return fig


def distribution_figure(ctx: Ctx, column: str, scale: str, title: str, x_title: str,
                        integer: bool) -> go.Figure:
    """Stacked histogram of one metric, one colour per tier."""
    dist = views.distribution(ctx.tiered, column, scale)
    bins = dist.drop_duplicates("bin")
    order = [fmt_bin(lo, hi, integer) for lo, hi in zip(bins["lo"], bins["hi"])]
    fig = go.Figure()
    for tier in ctx.levels:
        part = dist[dist["tier"] == tier]
        if part.empty:
            continue
        fig.add_trace(go.Bar(x=[fmt_bin(lo, hi, integer) for lo, hi in zip(part["lo"], part["hi"])],
                             y=part["customers"], name=str(tier), marker_color=ctx.color(tier),
                             hovertemplate=f"{tier}: %{{y:,}}<extra>%{{x}}</extra>"))
    _layout(fig, title, x_title, t("axis_customers"), height=340)
    fig.update_layout(barmode="stack", bargap=0.08)
    fig.update_xaxes(type="category", categoryorder="array", categoryarray=order, tickangle=-45)
    return fig


def tier_mix_figure(ctx: Ctx) -> go.Figure:
    """Two 100% bars: each tier's share of customers and of revenue."""
    mix = views.tier_mix(ctx.summary)
    measures = {"customers": t("mix_customers"), "revenue": t("mix_revenue")}
    fig = go.Figure()
    for tier in ctx.levels:
        part = mix[mix["tier"] == tier]
        fig.add_trace(go.Bar(
            y=[measures[m] for m in part["measure"]], x=part["share"], orientation="h", name=str(tier),
            marker_color=ctx.color(tier), text=[fmt_pct(s, 0) if s >= 0.04 else "" for s in part["share"]],
            textposition="inside", insidetextanchor="middle",
            hovertext=[t("mix_hover", tier=tier, share=fmt_pct(s), measure=measures[m].lower() if lang() == "en" else measures[m])
                       for s, m in zip(part["share"], part["measure"])],
            hoverinfo="text"))
    _layout(fig, t("mix_title"), "", "", height=230)
    fig.update_layout(barmode="stack", bargap=0.3)
    fig.update_xaxes(tickformat=".0%", range=[0, 1])
    fig.update_yaxes(autorange="reversed")
    return fig


def orders_figure(ctx: Ctx, orders: pd.DataFrame, tier: str) -> go.Figure:
    """One customer's orders as bars over time (returns in red)."""
    color = ctx.color(tier)
    fig = go.Figure(go.Bar(
        x=orders["order_date"], y=orders["amount"],
        marker_color=[RETURN_COLOR if a < 0 else color for a in orders["amount"]],
        hovertext=[t("orders_hover", order=k, amount=fmt_money(a), lines=n)
                   for k, a, n in zip(orders["order_key"], orders["amount"], orders["lines"])],
        hoverinfo="text+x", name=t("orders_y"),
        width=max(2, (ctx.as_of - ctx.start).days / 120) * 86_400_000))
    _layout(fig, t("orders_title"), t("orders_x"), t("orders_y"), height=320, legend=False)
    fig.update_xaxes(range=[pd.Timestamp(ctx.start) - pd.Timedelta(days=7),
                            pd.Timestamp(ctx.as_of) + pd.Timedelta(days=7)])
    return fig


def column_config(columns) -> dict:
    """Translated headers and number formats for a customer table."""
    cfg = {}
    for name in columns:
        label = col_label(name)
        if name in ("monetary", "avg_order_value", "spend_first_half", "spend_second_half", "amount"):
            cfg[name] = st.column_config.NumberColumn(label, format="%,.2f")
        elif name == "composite_score":
            cfg[name] = st.column_config.NumberColumn(label, format="%.2f")
        elif name == "avg_interval_days":
            cfg[name] = st.column_config.NumberColumn(label, format="%.1f")
        elif name in ("cumulative_share",):
            cfg[name] = st.column_config.NumberColumn(label, format="percent")
        elif name == "trend":
            cfg[name] = st.column_config.NumberColumn(label, format="percent")
        elif name in ("first_order_date", "last_order_date", "last_interaction_date", "order_date",
                      "first_date", "last_date", "date"):
            cfg[name] = st.column_config.DateColumn(label, format="YYYY-MM-DD")
        else:
            cfg[name] = st.column_config.Column(label)
    return cfg



# --------------------------------------------------------------------------------------------
# Segments page helpers: scores, RFM segments, weighted tiers, breakdowns
# --------------------------------------------------------------------------------------------

# Segment colours in rule order (the default set has 11 segments, then "Others").
SEGMENT_COLORS = ("#1B5E20", "#43A047", "#7CB342", "#29B6F6", "#4FC3F7", "#FFB300", "#FB8C00",
                  "#D81B60", "#E53935", "#8D6E63", "#78909C", "#BDBDBD", "#5E35B1", "#00897B")
CUSTOM_EXAMPLES = {"recency": "30, 90, 180, 365", "frequency": "2, 3, 5, 10", "monetary": "100, 500, 1000, 5000",
                   "activity": "1, 2, 4, 8", "breadth": "2, 3, 5, 8"}


def dimension_label(name: str) -> str:
    dim = next(d for d in DIMENSIONS if d.name == name)
    return dim.label_zh if lang() == "zh" else dim.label_en


def segment_label(name) -> str:
    """A segment's name in the UI language (names typed by the user stay as they are)."""
    if is_missing(name):
        return t("na")
    return SEGMENT_NAMES_ZH.get(name, name) if lang() == "zh" else str(name)


def segment_action(name) -> str:
    action = SEGMENT_ACTIONS.get(name)
    return (action[1] if lang() == "zh" else action[0]) if action else t("na")


def show_segments(frame: pd.DataFrame) -> pd.DataFrame:
    """A customer table for display: RFM segment names in the UI language."""
    if "rfm_segment" not in frame.columns or lang() != "zh":
        return frame
    return frame.assign(rfm_segment=frame["rfm_segment"].map(segment_label))


def segment_rules() -> pd.DataFrame:
    """The RFM segment rules in use: the user's (kept valid), else the default for the score points."""
    ss = st.session_state
    n = int(ss["s_score_points"])
    return (scores_mod.validate_segment_rules(ss["s_segment_rules"], n) if ss["s_segment_rules"]
            else scores_mod.default_segment_rules(n))


def _points_changed() -> None:
    ss = st.session_state
    ss["s_custom_cuts"], ss["s_segment_rules"], ss["_seg_base"] = {}, [], None


def cut_text(cuts) -> str:
    return ", ".join(f"{c:g}" for c in cuts)


def _custom_changed(dim: str, n: int) -> None:
    """Apply the typed cut points of one dimension, or say why they cannot be used."""
    ss = st.session_state
    text = str(ss[f"w_custom_{dim}"]).strip()
    errors = ss.setdefault("_custom_errors", {})
    errors.pop(dim, None)
    custom = dict(ss["s_custom_cuts"])
    custom.pop(dim, None)
    if text:
        parts = [x.strip() for x in re.split(r"[,，;；\s]+", text) if x.strip()]
        try:
            values = [float(x) for x in parts]
        except ValueError:
            bad = next(x for x in parts if not re.fullmatch(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?", x))
            errors[dim] = t("sg_custom_number", value=bad)
            return
        if len(values) != n - 1:
            errors[dim] = t("sg_custom_count", n=n, k=n - 1, got=len(values))
            return
        try:
            custom[dim] = scores_mod.check_custom_cuts(dim, values, n)
        except ValueError:
            errors[dim] = t("sg_custom_order")
            return
    ss["s_custom_cuts"] = custom


def score_cut_config(dim: str) -> dict:
    """Number formats of :func:`score_cut_table`: money with cents, days and counts whole."""
    bound_format = "%,.2f" if dim == "monetary" else "%,.0f"
    return {t("sg_col_from"): st.column_config.NumberColumn(format=bound_format),
            t("sg_col_to"): st.column_config.NumberColumn(format=bound_format),
            t("sg_col_share"): st.column_config.NumberColumn(format="%.1f%%")}


def score_cut_table(ctx: Ctx, dim: str) -> pd.DataFrame:
    """One dimension's rows of the score cut table, with translated headers (shares in %)."""
    rows = ctx.score_cuts[ctx.score_cuts["dimension"] == dim]
    return pd.DataFrame({t("sg_col_score"): rows["score"].to_numpy(), t("sg_col_from"): rows["lower"].to_numpy(),
                         t("sg_col_to"): rows["upper"].to_numpy(), t("sg_col_customers"): rows["customers"].to_numpy(),
                         t("sg_col_share"): 100 * rows["share"].to_numpy()})


def _weight_changed(dim: str, dims: list[str]) -> None:
    ss = st.session_state
    weights = {d: float(ss["s_weights"].get(d, 1.0)) for d in dims}
    weights[dim] = float(ss[f"w_weight_{dim}"])
    if sum(weights.values()) <= 0:
        ss["_weights_error"] = True
        ss[f"w_weight_{dim}"] = float(ss["s_weights"].get(dim, 1.0))
        return
    ss["s_weights"] = weights


def weight_slider(dim: str, dims: list[str]) -> None:
    ss = st.session_state
    key, value = f"w_weight_{dim}", float(ss["s_weights"].get(dim, 1.0))
    if ss.get("_reseed") or key not in ss or ss[key] != value:
        ss[key] = value
    st.slider(dimension_label(dim), min_value=0.0, max_value=5.0, step=0.5, key=key,
              on_change=_weight_changed, args=(dim, dims))


def compare_rules(ctx: Ctx) -> tuple[segcore.TierRules, segcore.TierRules]:
    """(Pareto by spend, weighted score) rules with the current labels and each one's cut sliders."""
    common = dict(labels=ctx.labels, prospect_label=ctx.rules.prospect_label, weights=ctx.rules.weights,
                  score_points=ctx.rules.score_points)
    return (segcore.TierRules(cuts=current_cuts("value"), by="value", method="pareto", **common),
            segcore.TierRules(cuts=current_cuts("score"), method="score", **common))


def _use_score() -> None:
    st.session_state["s_method"] = "score"


def segment_figure(summary: pd.DataFrame) -> go.Figure:
    """Customers per segment, horizontal bars in rule order."""
    names = [segment_label(x) for x in summary["segment"]]
    fig = go.Figure(go.Bar(
        y=names, x=summary["customers"], orientation="h",
        marker_color=[SEGMENT_COLORS[i % len(SEGMENT_COLORS)] for i in range(len(names))],
        text=[f"{fmt_int(c)} · {fmt_pct(s, 0)}" for c, s in zip(summary["customers"], summary["customer_share"].fillna(0))],
        textposition="auto", hovertemplate="%{y}: %{x:,}<extra></extra>"))
    _layout(fig, t("sg_seg_chart"), t("sg_seg_axis"), "", height=max(300, 34 * len(names) + 90), legend=False)
    fig.update_yaxes(autorange="reversed")
    return fig


def cross_figure(long: pd.DataFrame, title: str, x_title: str, y_title: str) -> go.Figure:
    """A cross-tab (:func:`segcore.views.cross_tab`) as a heatmap of customers, counts written in."""
    rows = list(dict.fromkeys(long["row"].fillna(t("na"))))
    cols = list(dict.fromkeys(long["column"].fillna(t("na"))))
    z = long["customers"].to_numpy().reshape(len(rows), len(cols))
    fig = go.Figure(go.Heatmap(z=z, x=cols, y=rows, colorscale="Blues", showscale=False,
                               text=[[fmt_int(v) for v in row] for row in z], texttemplate="%{text}",
                               hovertemplate=f"{y_title}: %{{y}}<br>{x_title}: %{{x}}<br>%{{text}}<extra></extra>"))
    _layout(fig, title, x_title, y_title, height=120 + 48 * len(rows), legend=False)
    fig.update_yaxes(autorange="reversed", type="category")
    fig.update_xaxes(type="category", side="bottom")
    return fig


def stack_figure(long: pd.DataFrame, colors: dict, title: str, x_title: str, shares: bool,
                 names: dict | None = None) -> go.Figure:
    """Stacked bars: one bar per ``row`` value, stacked by ``column`` (tier or segment colours)."""
    names = names or {}
    fig = go.Figure()
    for col in dict.fromkeys(long["column"]):
        part = long[long["column"].eq(col) if col is not None else long["column"].isna()]
        label = names.get(col, col if col is not None else t("na"))
        y = part["row_share"].fillna(0) if shares else part["customers"]
        fig.add_trace(go.Bar(x=part["row"].fillna(t("na")), y=y, name=str(label),
                             marker_color=colors.get(col, PROSPECT_COLOR),
                             hovertemplate=f"%{{x}} · {label}: %{{y:{'.1%' if shares else ','}}}<extra></extra>"))
    _layout(fig, title, x_title, t("sg_stack_axis_share") if shares else t("sg_seg_axis"), height=420)
    fig.update_layout(barmode="stack")
    fig.update_xaxes(type="category")
    if shares:
        fig.update_yaxes(tickformat=".0%", range=[0, 1])
    return fig


STACK_TOP = 20  # attribute values charted in a breakdown (the table has all)
BREAKDOWN_SKIP = {"customer_id", "name", "tier", "rfm_segment", "is_prospect"}


def segment_table(summary: pd.DataFrame) -> pd.DataFrame:
    """The segment summary for display: names and actions in the UI language."""
    return pd.DataFrame({
        t("sg_col_segment"): [segment_label(x) for x in summary["segment"]],
        t("sg_col_action"): [segment_action(x) for x in summary["segment"]],
        t("sg_col_customers"): summary["customers"].to_numpy(),
        t("sg_col_share"): summary["customer_share"].to_numpy(),
        t("sg_col_revenue_share"): summary["revenue_share"].to_numpy(),
        t("sg_col_avg_recency"): summary["avg_recency_days"].to_numpy(),
        t("sg_col_avg_frequency"): summary["avg_frequency"].to_numpy(),
        t("sg_col_avg_monetary"): summary["avg_monetary"].to_numpy(),
    })


def segment_column_config() -> dict:
    pct = st.column_config.NumberColumn(format="percent")
    return {t("sg_col_share"): pct, t("sg_col_revenue_share"): pct,
            t("sg_col_avg_recency"): st.column_config.NumberColumn(format="%.0f"),
            t("sg_col_avg_frequency"): st.column_config.NumberColumn(format="%.1f"),
            t("sg_col_avg_monetary"): st.column_config.NumberColumn(format="%,.2f"),
            t("sg_col_action"): st.column_config.TextColumn(width="large")}


def rules_editor_base(rules: pd.DataFrame, n: int) -> pd.DataFrame:
    """The table the rules editor starts from: fixed while the user edits (the editor keeps its
    edits relative to it), rebuilt when the rules change otherwise (reset, settings loaded, new
    score points)."""
    ss = st.session_state
    if ss.get("_seg_base") is None or ss.get("_seg_base_n") != n or ss.get("_seg_known") != ss["s_segment_rules"]:
        ss["_seg_base"], ss["_seg_base_n"], ss["_seg_known"] = rules.copy(), n, ss["s_segment_rules"]
        ss.pop("w_seg_rules", None)
    return ss["_seg_base"]


def rules_column_config(n: int) -> dict:
    cfg = {"segment": st.column_config.TextColumn(t("sg_col_segment"), required=True, width="medium")}
    for name in scores_mod.SEGMENT_RULE_COLUMNS[1:]:
        letter, end = name.split("_")  # r_min -> "R ≥", r_max -> "R ≤"
        cfg[name] = st.column_config.NumberColumn(f"{letter.upper()} {'≥' if end == 'min' else '≤'}",
                                                  min_value=1, max_value=n, step=1, required=True)
    return cfg


def apply_segment_rules(edited: pd.DataFrame, n: int) -> str | None:
    """Keep the edited rules when valid (None), else return why not (the last valid rules stay)."""
    ss = st.session_state
    try:
        clean = scores_mod.validate_segment_rules(edited, n)
    except ValueError as exc:
        return str(exc)
    default = scores_mod.default_segment_rules(n)
    records = [] if clean.equals(default) else clean.to_dict("records")
    if records != ss["s_segment_rules"]:
        ss["s_segment_rules"] = ss["_seg_known"] = records
        st.rerun()  # the summary above the editor was drawn with the old rules
    return None


def reset_segment_rules() -> None:
    ss = st.session_state
    ss["s_segment_rules"], ss["_seg_base"] = [], None


def cuts_text(cuts) -> str:
    return " / ".join(fmt_pct(c, 0) for c in cuts)


def summary_table(summary: pd.DataFrame, key: str) -> None:
    """A tier summary as a small table with translated headers."""
    heads = {"tier": t("col_tier"), "customers": t("kpi_customers"), "customer_share": t("kpi_customer_share"),
             "revenue": t("kpi_revenue"), "revenue_share": t("kpi_revenue_share"),
             "avg_monetary": t("kpi_avg_spend"), "avg_recency_days": t("kpi_avg_recency")}
    st.dataframe(summary, hide_index=True, key=key, placeholder=t("na"),
                 column_order=["tier", "customers", "customer_share", "revenue", "revenue_share"], column_config={
        "tier": heads["tier"], "customers": heads["customers"],
        "customer_share": st.column_config.NumberColumn(heads["customer_share"], format="percent"),
        "revenue": st.column_config.NumberColumn(heads["revenue"], format="%,.0f"),
        "revenue_share": st.column_config.NumberColumn(heads["revenue_share"], format="percent"),
        "avg_monetary": st.column_config.NumberColumn(heads["avg_monetary"], format="%,.0f"),
        "avg_recency_days": st.column_config.NumberColumn(heads["avg_recency_days"], format="%.0f")})


def breakdown_columns(tiered: pd.DataFrame) -> list[str]:
    """Categorical columns to break tiers down by: text attributes with 2 to 1,000 values."""
    out = []
    for name in tiered.columns:
        if name in BREAKDOWN_SKIP or name in PROFILE_SKIP or not (
                tiered[name].dtype == object or isinstance(tiered[name].dtype, (pd.StringDtype, pd.CategoricalDtype))):
            continue
        if 2 <= tiered[name].nunique() <= 1000:
            out.append(name)
    return out


def mix_spec(ctx: Ctx, mix: str, rules: pd.DataFrame) -> tuple[str, list, dict, dict]:
    """(column, order, colours, display names) of what a breakdown stacks: tiers or segments."""
    if mix == "tier":
        return "tier", list(ctx.levels), dict(ctx.colors), {}
    order = [*rules["segment"], "Others"]
    colors = {s: SEGMENT_COLORS[i % len(SEGMENT_COLORS)] for i, s in enumerate(order)}
    return "rfm_segment", order, colors, {s: segment_label(s) for s in order}


def rename_columns(table: pd.DataFrame, names: dict) -> pd.DataFrame:
    return table.rename(columns={**names, "Total": t("sg_total")})


def cross_column_config(table: pd.DataFrame, shares: bool) -> dict:
    if not shares:
        return {}
    return {c: st.column_config.NumberColumn(format="percent") for c in table.columns[1:]}


def filter_picker(column: str, values: list) -> None:
    """A multiselect of one attribute's values, kept in ``s_filters`` for the customer list."""
    ss = st.session_state
    key = f"w_filter_{column}"
    chosen = [v for v in ss["s_filters"].get(column, []) if v in values]
    if ss.get("_reseed") or key not in ss or ss[key] != chosen:
        ss[key] = chosen

    def _save():
        ss["s_filters"] = {**ss["s_filters"], column: list(ss[key])}

    st.multiselect(t("sg_filter"), options=values, key=key, on_change=_save,
                   format_func=segment_label if column == "rfm_segment" else str)


def filter_text(filters: dict) -> str:
    return "; ".join(f"{col_label(c)} = {list_sep_join(segment_label(v) if c == 'rfm_segment' else v for v in vals)}"
                     for c, vals in filters.items() if vals)


def list_sep_join(values) -> str:
    return t("list_sep").join(str(v) for v in values)


def score_text(row) -> str:
    """A customer's scores as "R 5 · F 3 · M 4" (the dimensions the data has)."""
    letters = {"r_score": "R", "f_score": "F", "m_score": "M", "a_score": "A", "b_score": "B"}
    return " · ".join(f"{letter} {int(row[c])}" for c, letter in letters.items()
                      if c in row and not is_missing(row[c]))


def active_filters(tiered: pd.DataFrame) -> dict:
    """The breakdown filters that apply to this table (columns it has, non-empty value lists)."""
    return {c: v for c, v in st.session_state["s_filters"].items() if v and c in tiered.columns}


def filter_note(filters: dict) -> None:
    """Say which breakdown filters apply to the list below, with a button to clear them."""
    note_col, clear_col = st.columns([5, 1], vertical_alignment="center")
    note_col.info(t("sg_filter_on", filters=filter_text(filters)), icon=":material/filter_alt:")
    clear_col.button(t("sg_filter_clear"), key="w_filters_clear", on_click=clear_filters,
                     icon=":material/filter_alt_off:")


def filtered_ids(ctx: Ctx) -> list[str] | None:
    """Customer ids the breakdown filters keep (None: no filter), for lists made from the tiers;
    shows the filter note when one applies."""
    filters = active_filters(ctx.tiered)
    if not filters:
        return None
    filter_note(filters)
    return views.customer_list(ctx.tiered, filters=filters)["customer_id"].tolist()


def clear_filters() -> None:
    st.session_state["s_filters"] = {}


# --------------------------------------------------------------------------------------------
# Data page helpers
# --------------------------------------------------------------------------------------------

def upload_box(role: str, label: str, help_text: str) -> None:
    """A file uploader whose file is written to disk once and kept across page switches."""
    ss = st.session_state
    wkey = f"w_upload_{role}"

    def _changed():
        if ss.get(wkey) is None:  # the user removed the file
            ss["s_uploads"][role] = None
            ss.pop(f"_upload_id_{role}", None)

    uploaded = st.file_uploader(label, type=UPLOAD_TYPES, key=wkey, help=help_text, on_change=_changed)
    ref = ss["s_uploads"].get(role)
    if uploaded is not None and ss.get(f"_upload_id_{role}") != uploaded.file_id:
        text = t("up_saving", file=uploaded.name, size=fmt_size(uploaded.size))
        bar = st.progress(0.0, text=text)
        ref = save_upload(uploaded, progress=lambda x: bar.progress(x, text=text))
        bar.empty()
        ss["s_uploads"][role] = ref
        ss[f"_upload_id_{role}"] = uploaded.file_id
    if ref is not None and uploaded is None:
        st.caption(t("up_current", file=ref.name, size=fmt_size(ref.size)))


def effective_mapping(headers: list[str], overrides: dict[str, str]) -> dict[str, str]:
    """The mapping the engine uses: its guess, updated by the user's choices field by field
    (a column serves one field; an empty choice unmaps), as :func:`segcore.parse_loaded` does."""
    full = segcore.guess_mapping(headers)
    for field_name, header in overrides.items():
        full = {k: v for k, v in full.items() if v != header}
        if header:
            full[field_name] = header
        else:
            full.pop(field_name, None)
    return full


REQUIRED_FIELDS = ("customer_id", "order_date", "amount")
SIDE_FIELDS = {"customers": segcore.headers.CUSTOMER_FIELDS, "interactions": segcore.headers.INTERACTION_FIELDS}
SIDE_REQUIRED = {"customers": ("customer_id",), "interactions": ("customer_id", "date")}


@st.cache_data(show_spinner=False, max_entries=8)
def side_headers(sha: str, path: str) -> list[str] | None:
    """The column headers of a customers / interactions file (cached by content)."""
    return _headers_of(path)


def side_mapping_editor(role: str, headers: list[str], sha: str) -> None:
    """Select boxes for the fields of a customers / interactions file; a change reloads."""
    ss = st.session_state
    overrides = side_overrides(sha)
    guess = segcore.guess_mapping(headers, SIDE_FIELDS[role])
    effective = {**guess, **{f: h for f, h in overrides.items() if h}}
    cols = st.columns(4)
    for i, field_name in enumerate(SIDE_FIELDS[role]):
        required = field_name in SIDE_REQUIRED[role]
        options = headers if required else ["", *headers]
        wkey = f"w_side_{role}_{field_name}"
        current = effective.get(field_name, "")
        ss[wkey] = current if current in options else None  # None: "choose a column"

        def _set(field_name=field_name, wkey=wkey):
            side_overrides(sha)[field_name] = ss[wkey] or ""

        label = t(f"side_field_{field_name}") + (" *" if required else "")
        cols[i % 4].selectbox(label, options, key=wkey, on_change=_set, placeholder=t("choose_column"),
                              format_func=labeller({"": t("not_used")}))


def mapping_editor(headers: list[str], sha: str) -> None:
    """One select box per canonical field; a change is stored as an override and reloads."""
    ss = st.session_state
    overrides = overrides_for(sha)
    effective = effective_mapping(headers, overrides)
    options = ["", *headers]
    cols = st.columns(4)
    for i, field_name in enumerate(segcore.CANONICAL_FIELDS):
        wkey = f"w_map_{field_name}"
        current = effective.get(field_name, "")
        ss[wkey] = current if current in options else ""

        def _set(field_name=field_name, wkey=wkey):
            overrides_for(sha)[field_name] = ss[wkey]

        label = t(f"field_{field_name}") + (" *" if field_name in REQUIRED_FIELDS else "")
        cols[i % 4].selectbox(label, options, key=wkey, on_change=_set,
                              format_func=labeller({"": t("not_used")}))


def download_rejected(ds: segcore.Dataset) -> bytes:
    """The rejected rows as CSV (UTF-8 with BOM, formula-safe), read through a fresh cursor."""
    own = dataclasses.replace(ds, con=ds.con.cursor())
    return segcore.to_csv_bytes(own.rejected_rows())


def rejected_preview(ds: segcore.Dataset, limit: int = 200) -> pd.DataFrame | None:
    """The first rejected rows for display (None when there are too many to read them all)."""
    if ds.report.rows_rejected == 0 or ds.report.rows_rejected > 50_000:
        return None
    own = dataclasses.replace(ds, con=ds.con.cursor())
    frame = own.rejected_rows().head(limit)
    frame["reason"] = [reason_label(r) for r in frame["reason"]]
    return frame


# --------------------------------------------------------------------------------------------
# Customers page helpers
# --------------------------------------------------------------------------------------------

TABLE_ROWS = 5_000  # rows sent to the browser table (downloads hold every row)
TABLE_FIRST = ("customer_id", "name", "tier", "rank", "rfm_segment", "monetary", "frequency", "recency_days",
               "avg_order_value", "first_order_date", "last_order_date", "product_breadth",
               "avg_interval_days", "trend", "interactions_90d", "last_interaction_date")
SCORE_COLUMNS = ("r_score", "f_score", "m_score", "a_score", "b_score", "composite_score")
TABLE_LAST = (*SCORE_COLUMNS, "cumulative_share", "tenure_days", "spend_first_half", "spend_second_half")
TABLE_HIDDEN = ("is_prospect",)
PROFILE_SKIP = set(TABLE_FIRST) | set(TABLE_LAST) | set(TABLE_HIDDEN)


def table_columns(table: pd.DataFrame) -> list[str]:
    """Display order of a customer table: key metrics, then attributes, then the rest; columns
    with no value at all (e.g. products bought when the file has no product column) are left out."""
    columns = [c for c in table.columns if table[c].notna().any()] or list(table.columns)
    first = [c for c in TABLE_FIRST if c in columns]
    last = [c for c in TABLE_LAST if c in columns]
    middle = [c for c in columns if c not in first and c not in last and c not in TABLE_HIDDEN]
    return first + middle + last


PICK_ROWS = 1_000  # customers offered in the profile's select box (search narrows the list)


def customer_choices(view: pd.DataFrame, selected_row: pd.DataFrame | None) -> tuple[list[str], dict]:
    """Options for the customer picker: the first rows of the current list (plus the customer
    already open), and their labels "id · name"."""
    head = view.head(PICK_ROWS)
    ids = head["customer_id"].tolist()
    names = head["name"].tolist() if "name" in head.columns else [None] * len(ids)
    if selected_row is not None and len(selected_row):
        chosen = selected_row["customer_id"].iloc[0]
        if chosen not in ids:
            ids.insert(0, chosen)
            names.insert(0, selected_row["name"].iloc[0] if "name" in selected_row.columns else None)
    labels = {c: f"{c} · {n}" for c, n in zip(ids, names) if isinstance(n, str) and n}
    return ids, labels


def attribute_columns(columns) -> list[str]:
    """The descriptive columns (region, city, industry ...) of a customer table."""
    return [c for c in columns if c not in PROFILE_SKIP]


# ============================================================================================
# Issue 5: migration, churn warning, playbook, settings file and workspace
# ============================================================================================
# Pages 4-6 and the data page's "Saved" source and settings section. Heavy results (the earlier
# tiering and its comparison, churn, rising customers, lifecycle, follow-ups) are memoised per
# session for what they depend on (see _memo), so widgets elsewhere on a page cost nothing.

from datetime import timedelta  # noqa: E402

from segcore import dynamics  # noqa: E402
from segcore import playbook as playbooks  # noqa: E402
from segcore.settings import SettingsError  # noqa: E402
from segcore.workspace import Workspace, WorkspaceError  # noqa: E402

PAGES.update({"migration": "pages/4_Migration.py", "churn": "pages/5_Churn.py",
              "playbook": "pages/6_Playbook.py"})
PAGE_ICONS.update({"migration": ":material/swap_vert:", "churn": ":material/notification_important:",
                   "playbook": ":material/checklist:"})

MIG_PERIODS = ("month", "quarter", "half-year", "year", "custom")
MIG_LISTS = ("upgraded", "downgraded", "new", "lost")
FOLLOW_STATUSES = ("overdue", "due", "scheduled")
RISK_COLORS = {"high": "#C62828", "medium": "#EF6C00", "low": "#FBC02D"}
STAGE_COLORS = {"prospect": PROSPECT_COLOR, "new": "#2E7D32", "reactivated": "#00897B", "lapsed": "#9E9E9E",
                "at risk": "#EF6C00", "active": "#1565C0"}
NEW_COLOR = "#2E7D32"
K_RANGE, DROP_RANGE, TREND_RANGE = (0.5, 6.0), (5, 100), (10, 300)  # slider bounds (k; percents)
WS_ERRORS = (WorkspaceError, duckdb.Error, OSError)

DEFAULTS.update({
    "s_mig_period": "quarter",
    "s_mig_before": None,        # the earlier as-of date (follows the period unless "custom")
    "s_mig_measure": "customers",
    "s_mig_list": "upgraded",
    "s_snap_pick": None,
    "s_churn_k": 2.0,
    "s_churn_drop": 50,           # percent
    "s_rising_trend": 50,         # percent
    "s_new_days": 90,
    "s_lapse_days": 180,
    "s_risk_tiers": [],
    "s_playbook": [],             # edited playbook rows (any levels); empty = the defaults
    "s_fu_tiers": [],
    "s_fu_status": [],
    "s_ws_dataset": None,
})


def bound_to(widget, setting: str, wkey: str, *args, **kwargs):
    """:func:`bound` with a widget key of its own: a second widget for one setting (the Migration
    page's "to" date is the sidebar's as-of date) or one per tab."""
    ss = st.session_state
    if ss.get("_reseed") or wkey not in ss or ss[wkey] != ss[setting]:
        ss[wkey] = ss[setting]

    def _save():
        ss[setting] = ss[wkey]

    return widget(*args, key=wkey, on_change=_save, **kwargs)


def _memo(name: str, signature, compute):
    """``compute()`` once per ``signature``, kept in the session (one entry per ``name``)."""
    ss = st.session_state
    hit = ss.get(f"_memo_{name}")
    if hit is None or hit[0] != signature:
        hit = ss[f"_memo_{name}"] = (signature, compute())
    return hit[1]


def _tiers_key():
    """What the current tiers (``ctx.tiered``) were made from: :func:`context`'s memo signature."""
    return st.session_state["_tiers"][0]


def flash(channel: str, kind: str, text: str) -> None:
    """A message for the next :func:`show_flash` of ``channel`` (actions run in callbacks)."""
    st.session_state.setdefault("_flash", {}).setdefault(channel, []).append((kind, text))


def show_flash(channel: str) -> None:
    for kind, text in st.session_state.get("_flash", {}).pop(channel, []):
        icons = {"success": ":material/check_circle:", "error": ":material/error:", "warning": ":material/warning:"}
        getattr(st, kind)(text, icon=icons.get(kind))


def downloads(frame: pd.DataFrame, stem: str, key: str) -> None:
    """CSV (UTF-8 with BOM) and Excel buttons for one table (formula-safe, made on click)."""
    stem = re.sub(r"[\\/:*?\"<>|\s]+", "_", str(stem))
    csv_col, xlsx_col, _ = st.columns([1, 1, 4], vertical_alignment="bottom")
    csv_col.download_button(t("dl_csv"), data=lambda: segcore.to_csv_bytes(frame), file_name=f"{stem}.csv",
                            mime="text/csv", on_click="ignore", help=t("dl_csv_help"), icon=":material/download:",
                            key=f"{key}_csv", width="stretch")
    xlsx_col.download_button(t("dl_xlsx"), data=lambda: segcore.to_excel_bytes({stem: frame}),
                             file_name=f"{stem}.xlsx", on_click="ignore", key=f"{key}_xlsx", width="stretch",
                             mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                             help=t("dl_one_sheet_help"), icon=":material/table_view:")


def names_of(prefix: str, codes) -> dict:
    """``{code: text}`` for coded values (risk levels, stages, movements, statuses)."""
    return {c: t(f"{prefix}_{c}") for c in codes}


def shown(frame: pd.DataFrame) -> pd.DataFrame:
    """An engine table in the UI language: bilingual columns and coded values as words."""
    return views.localise(frame, lang(), {
        "risk": names_of("risk", dynamics.RISK_LEVELS), "stage": names_of("stage", dynamics.STAGES),
        "movement": names_of("mv", dynamics.MOVEMENTS), "status": names_of("fu", FOLLOW_STATUSES)})


_MONEY = ("monetary_before", "monetary_after", "revenue", "spend_first_half", "spend_second_half",
          "next_tier_recent_median", "monetary")
_DATES = ("next_contact_date", "as_of", "created")


def dyn_column_config(columns) -> dict:
    """:func:`column_config` plus the columns of the dynamics and playbook tables."""
    cfg = column_config(columns)
    for name in columns:
        label = col_label(name)
        if name in _MONEY:
            cfg[name] = st.column_config.NumberColumn(label, format="%,.2f")
        elif name in ("spend_drop_share", "trend"):
            cfg[name] = st.column_config.NumberColumn(label, format="percent")
        elif name in ("overdue_ratio", "typical_interval_days"):
            cfg[name] = st.column_config.NumberColumn(label, format="%.1f")
        elif name in _DATES:
            cfg[name] = st.column_config.DateColumn(label, format="YYYY-MM-DD")
        elif name in ("reason", "strategy"):
            cfg[name] = st.column_config.TextColumn(label, width="large")
    return cfg


def table(frame: pd.DataFrame, columns, key: str, height: int | None = None, empty: str | None = None) -> None:
    """A read-only table of the given columns (those the frame has), capped at TABLE_ROWS rows;
    ``empty``: the message shown instead when there is no row."""
    if empty is not None and frame.empty:
        st.info(empty, icon=":material/info:")
        return
    columns = [c for c in columns if c in frame.columns]
    if len(frame) > TABLE_ROWS:
        st.caption(t("table_capped", n=fmt_int(TABLE_ROWS)))
    head = frame.head(TABLE_ROWS)
    head.attrs = {}  # engine notes (e.g. a date) are not for the browser
    st.dataframe(head, column_order=columns, column_config=dyn_column_config(columns),
                 hide_index=True, key=key, height=height or "auto", placeholder=t("na"))


def _rgba(color: str, alpha: float) -> str:
    color = color.lstrip("#")
    r, g, b = (int(color[i:i + 2], 16) for i in (0, 2, 4))
    return f"rgba({r},{g},{b},{alpha})"


# --------------------------------------------------------------------------------------------
# Migration
# --------------------------------------------------------------------------------------------

MIG_LIST_COLUMNS = ("customer_id", "name", "tier_before", "tier_after", "levels_moved", "monetary_before",
                    "monetary_after", "last_order_date", "region", "city", "channel")


def migration_dates(ctx: Ctx) -> date | None:
    """Period, "from" and "to" controls; the earlier as-of date (None when the data has no day
    before the as-of date). "To" is the sidebar's as-of date; "from" follows the period unless
    the period is "custom"."""
    ss = st.session_state
    lo, hi, after = ctx.ds.report.date_min, ctx.ds.report.date_max, ctx.as_of
    if after <= lo:
        st.warning(t("mig_no_room", date=fmt_date(lo)), icon=":material/event_busy:")
        return None
    period_col, from_col, to_col = st.columns([2.4, 1, 1], vertical_alignment="bottom")
    with period_col:
        bound(st.segmented_control, "s_mig_period", t("mig_period"), options=MIG_PERIODS, required=True,
              format_func=labeller(names_of("period", MIG_PERIODS)))
    period = ss["s_mig_period"]
    latest = after - timedelta(days=1)
    if period != "custom" or ss["s_mig_before"] is None:
        ss["s_mig_before"] = dynamics.previous_as_of(after, "quarter" if period == "custom" else period)
    if period == "custom":
        ss["s_mig_before"] = min(max(ss["s_mig_before"], lo), latest)
    with from_col:
        bound(st.date_input, "s_mig_before", t("mig_from"), min_value=min(lo, ss["s_mig_before"]),
              max_value=latest, disabled=period != "custom", help=t("mig_from_help"))
    with to_col:
        bound_to(st.date_input, "s_as_of", "w_mig_to", t("mig_to"), min_value=lo, max_value=hi,
                 help=t("mig_to_help"))
    return ss["s_mig_before"]


def _score_options() -> dict:
    """The session's score settings as :func:`segcore.add_scores` takes them."""
    ss = st.session_state
    custom = {k: tuple(v) for k, v in ss["s_custom_cuts"].items()}
    return {"n": int(ss["s_score_points"]), "custom_cuts": custom or None,
            "weights": dict(ss["s_weights"]) or None, "rules": ss["s_segment_rules"] or None}


def migration(ctx: Ctx, before: date) -> tuple[dynamics.Migration | None, str | None]:
    """(the current tiers compared with the same rules at ``before``, or a message why not)."""
    def compute():
        metrics = _metrics(ctx.spec.key, before, ctx.start, ctx.ds)
        if ctx.rules.method == "score":
            metrics, _ = segcore.add_scores(metrics, **_score_options())
        earlier = segcore.assign_tiers(metrics, ctx.rules)
        return dynamics.compare_tiers(earlier, ctx.tiered, ctx.rules.labels, as_of_before=before,
                                      as_of_after=ctx.as_of, prospect_label=ctx.rules.prospect_label)
    try:
        return _memo("migration", (_tiers_key(), before), compute), None
    except ValueError:  # a level named "new" or "lost"
        return None, t("mig_bad_labels")


def matrix_figure(matrix: pd.DataFrame, ctx: Ctx, title: str, money: bool, y_title: str, x_title: str) -> go.Figure:
    """A transition matrix as a heatmap: cells coloured by their share of the row, values written in."""
    names = {"new": t("mig_new_row"), "lost": t("mig_lost_col")}
    rows = [names.get(r, r) for r in matrix.index]
    cols = [names.get(c, c) for c in matrix.columns]
    values = matrix.to_numpy(dtype=float)
    totals = values.clip(min=0).sum(axis=1, keepdims=True)
    shares = values.clip(min=0) / (totals + (totals == 0))
    text = [[(fmt_compact(v) if money else fmt_int(v)) + (f"<br>{fmt_pct(s, 0)}" if v else "")
             for v, s in zip(row, share)] for row, share in zip(values, shares)]
    hover = [[t("mig_cell_hover", before=r, after=c, value=fmt_money(v) if money else fmt_int(v),
                share=fmt_pct(s)) for c, v, s in zip(cols, row, share)]
             for r, row, share in zip(rows, values, shares)]
    fig = go.Figure(go.Heatmap(z=shares, x=cols, y=rows, colorscale="Blues", zmin=0, zmax=1, showscale=False,
                               text=text, texttemplate="%{text}", customdata=hover,
                               hovertemplate="%{customdata}<extra></extra>", xgap=2, ygap=2))
    _layout(fig, title, x_title, y_title, height=150 + 56 * len(rows), legend=False)
    fig.update_yaxes(autorange="reversed", type="category")
    fig.update_xaxes(type="category")
    return fig


def sankey_figure(mig: dynamics.Migration, ctx: Ctx, measure: str, title: str) -> go.Figure:
    """The flows between the two dates' levels (new customers enter on the left, lost ones leave
    on the right); flows with a negative net revenue are drawn as 0."""
    names = {"new": t("mig_new_row"), "lost": t("mig_lost_col")}

    def color(level):
        return NEW_COLOR if level == "new" else RETURN_COLOR if level == "lost" else ctx.color(level)

    levels = list(mig.nodes["level"])
    fmt = fmt_money if measure == "revenue" else fmt_int
    values = mig.links[measure].clip(lower=0)
    fig = go.Figure(go.Sankey(
        arrangement="snap", valueformat=",.0f",
        node=dict(label=[names.get(x, x) for x in levels], color=[color(x) for x in levels], pad=18,
                  thickness=18, line=dict(color="white", width=1),
                  hovertemplate="%{label}: %{value:,.0f}<extra></extra>"),
        link=dict(source=mig.links["source_node"], target=mig.links["target_node"], value=values,
                  color=[_rgba(color(s), 0.35) for s in mig.links["source"]],
                  customdata=[t("mig_flow_hover", before=names.get(s, s), after=names.get(a, a), value=fmt(v))
                              for s, a, v in zip(mig.links["source"], mig.links["target"], mig.links[measure])],
                  hovertemplate="%{customdata}<extra></extra>")))
    _layout(fig, title, "", "", height=460, legend=False)
    fig.update_traces(textfont=dict(size=14, color=CURVE_COLOR))
    for x, text, anchor in ((0, fmt_date(mig.as_of_before), "left"), (1, fmt_date(mig.as_of_after), "right")):
        fig.add_annotation(x=x, y=1.06, xref="paper", yref="paper", text=f"<b>{text}</b>", showarrow=False,
                           xanchor=anchor, font=dict(size=13))
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return fig


def migration_sheets(mig: dynamics.Migration) -> dict[str, pd.DataFrame]:
    """The whole comparison as Excel sheets: summary, both matrices, the four lists."""
    names = {"new": t("mig_new_row"), "lost": t("mig_lost_col")}
    corner = t("mig_corner")
    return {t("mig_sheet_summary"): shown(mig.summary),
            t("mig_sheet_customers"): views.matrix_table(mig.customers_matrix, names, corner),
            t("mig_sheet_revenue"): views.matrix_table(mig.revenue_matrix, names, corner),
            **{t(f"mv_{m}"): shown(mig.list(m)) for m in MIG_LISTS}}


# --------------------------------------------------------------------------------------------
# Workspace: saved datasets, settings and snapshots
# --------------------------------------------------------------------------------------------

def workspace() -> tuple[Workspace | None, str | None]:
    """The workspace file ($SEGCORE_WORKSPACE, ...), or why it cannot be opened."""
    try:
        return Workspace(), None
    except WS_ERRORS as exc:
        return None, str(exc)


def ws_problem(reason: str) -> None:
    st.error(t("ws_unavailable"), icon=":material/error:")
    st.caption(reason)


def dataset_name(spec: Spec) -> str:
    """The name snapshots of this data are filed under: the saved name, the file name, or "sample"."""
    return spec.saved or ("sample" if spec.sample else spec.orders.name)


def dataset_label(name: str) -> str:
    return t("sb_sample") if name == "sample" else str(name)


def saved_spec(name: str | None) -> Spec | None:
    """The :class:`Spec` of a dataset saved in the workspace (None when there is no such dataset)."""
    if not name:
        return None
    ws, _ = workspace()
    if ws is None:
        return None
    listed = ws.list_datasets()
    found = listed[listed["name"] == name]
    if found.empty:
        return None
    row = found.iloc[0]
    sha = hashlib.sha256(f"{ws.path}|{row['id']}|{row['created']}".encode()).hexdigest()

    def ref(role):
        return FileRef(name, str(ws.path), f"{sha}-{role}", 0)

    return Spec(orders=ref("orders"), customers=ref("customers") if row["has_customers"] else None,
                interactions=ref("interactions") if row["has_interactions"] else None, saved=name)


def _open_saved(spec: Spec) -> segcore.Dataset:
    try:
        return Workspace(spec.orders.path).open_dataset(spec.saved)
    except Exception as exc:
        raise LoadFailure("orders", spec.orders, exc) from exc


def _save_dataset() -> None:
    ss = st.session_state
    name = str(ss.get("w_ws_name") or "").strip()
    if not name:
        flash("ws", "warning", t("ws_need_name"))
        return
    ws, problem = workspace()
    try:
        if ws is None:
            raise WorkspaceError(problem)
        spec, ds = active()
        ws.save_dataset(name, ds, file_name=t("sb_sample") if spec.sample else spec.orders.name)
    except WS_ERRORS as exc:
        flash("ws", "error", t("ws_failed", reason=str(exc)))
        return
    ss["s_ws_dataset"] = name
    flash("ws", "success", t("ws_saved", name=name))


def _delete_dataset(name: str) -> None:
    ws, problem = workspace()
    try:
        if ws is None:
            raise WorkspaceError(problem)
        ws.delete_dataset(name)
    except WS_ERRORS as exc:
        flash("ws", "error", t("ws_failed", reason=str(exc)))
        return
    st.session_state["s_ws_dataset"] = None
    flash("ws", "success", t("ws_deleted", name=name))


def saved_datasets_panel() -> None:
    """The data page's "Saved" source: pick a saved dataset (it opens), delete it, or save the
    data in use under a name."""
    ss = st.session_state
    ws, problem = workspace()
    if ws is None:
        ws_problem(problem)
        return
    show_flash("ws")
    listed = ws.list_datasets()
    names = list(listed["name"])
    if not names:
        st.info(t("ws_none"), icon=":material/inventory_2:")
    else:
        if ss["s_ws_dataset"] not in names:
            ss["s_ws_dataset"] = names[0]
        labels = {r["name"]: t("ws_item", name=r["name"], lines=fmt_int(r["lines"]), customers=fmt_int(r["customers"]),
                               start=fmt_date(r["date_min"]), end=fmt_date(r["date_max"]),
                               saved=r["created"].strftime("%Y-%m-%d %H:%M"))
                  for _, r in listed.iterrows()}
        pick_col, delete_col = st.columns([5, 1], vertical_alignment="bottom")
        with pick_col:
            bound(st.selectbox, "s_ws_dataset", t("ws_pick"), options=names, format_func=labeller(labels))
        delete_col.button(t("delete"), key="w_ws_delete", on_click=_delete_dataset, args=(ss["s_ws_dataset"],),
                          icon=":material/delete:", width="stretch", help=t("ws_delete_help"))
    spec, _ = active()
    with st.container(border=True):
        st.markdown(f"**{t('ws_save_title')}**")
        st.caption(t("ws_save_note", file=t("sb_sample") if spec.sample else spec.orders.name))
        if "w_ws_name" not in ss:
            ss["w_ws_name"] = t("sb_sample") if spec.sample else spec.orders.name
        name_col, button_col = st.columns([4, 1], vertical_alignment="bottom")
        name_col.text_input(t("ws_name"), key="w_ws_name", max_chars=80)
        button_col.button(t("save"), key="w_ws_save", on_click=_save_dataset, icon=":material/save:",
                          type="primary", width="stretch")
    st.caption(t("ws_where", path=str(ws.path)))


def snapshot_choices(listed: pd.DataFrame) -> dict:
    return {int(r["id"]): t("snap_item", date=fmt_date(r["as_of"]), name=r["name"] or t("na"),
                            dataset=dataset_label(r["dataset"]), n=fmt_int(r["customers"]))
            for _, r in listed.iterrows()}


def snapshot_save_box(ctx: Ctx, dataset: str) -> None:
    """Save the current tiers (with the settings that made them) as a dated snapshot."""
    try:
        settings = settings_from_state()
    except ValueError:  # the settings cannot be written: the snapshot is saved without them
        settings = None
    with st.container(border=True):
        st.markdown(f"**{t('snap_save_title', date=fmt_date(ctx.as_of))}**")
        name_col, button_col = st.columns([4, 1], vertical_alignment="bottom")
        name_col.text_input(t("snap_name"), key="w_snap_name", placeholder=t("snap_name_ph"), max_chars=60)
        button_col.button(t("save"), key="w_snap_save", on_click=_save_snapshot, icon=":material/photo_camera:",
                          args=(dataset, ctx.tiered, ctx.as_of, ctx.rules.labels, settings),
                          type="primary", width="stretch")
        st.caption(t("snap_save_note", dataset=dataset_label(dataset)))


def snapshot_picker(listed: pd.DataFrame, dataset: str) -> pd.Series:
    """Pick a saved snapshot (default: the newest of this dataset) or delete it; its list row."""
    ss = st.session_state
    ids = [int(i) for i in listed["id"]]
    if ss["s_snap_pick"] not in ids:
        own = [int(i) for i, d in zip(listed["id"], listed["dataset"]) if d == dataset]
        ss["s_snap_pick"] = (own or ids)[0]
    pick_col, delete_col = st.columns([5, 1], vertical_alignment="bottom")
    with pick_col:
        bound(st.selectbox, "s_snap_pick", t("snap_pick"), options=ids, format_func=labeller(snapshot_choices(listed)))
    delete_col.button(t("delete"), key="w_snap_delete", on_click=_delete_snapshot, args=(ss["s_snap_pick"],),
                      icon=":material/delete:", width="stretch")
    return listed[listed["id"] == ss["s_snap_pick"]].iloc[0]


def _save_snapshot(dataset: str, tiered: pd.DataFrame, as_of: date, labels: tuple, settings) -> None:
    ss = st.session_state
    ws, problem = workspace()
    try:
        if ws is None:
            raise WorkspaceError(problem)
        ss["s_snap_pick"] = ws.save_snapshot(dataset, tiered, as_of, settings,
                                             name=str(ss.get("w_snap_name") or "").strip(), labels=labels)
    except WS_ERRORS as exc:
        flash("snap", "error", t("ws_failed", reason=str(exc)))
        return
    flash("snap", "success", t("snap_saved", date=fmt_date(as_of)))


def _delete_snapshot(snapshot_id: int) -> None:
    ws, problem = workspace()
    try:
        if ws is None:
            raise WorkspaceError(problem)
        ws.delete_snapshot(snapshot_id)
    except WS_ERRORS as exc:
        flash("snap", "error", t("ws_failed", reason=str(exc)))
        return
    st.session_state["s_snap_pick"] = None
    flash("snap", "success", t("snap_deleted"))


def snapshot_migration(ctx: Ctx, ws: Workspace, row) -> tuple[dynamics.Migration | None, str | None, object]:
    """(the saved snapshot ``row`` compared with the current tiers, or a message why not, and the
    snapshot's settings when using them would make the comparison possible)."""
    snap = _memo("snapshot", (str(ws.path), int(row["id"]), row["created"]), lambda: ws.load_snapshot(int(row["id"])))
    if snap.as_of >= ctx.as_of:
        return None, t("snap_not_before", date=fmt_date(snap.as_of), as_of=fmt_date(ctx.as_of)), None
    if tuple(snap.labels) != tuple(ctx.rules.labels):
        return None, t("snap_other_levels", saved=" / ".join(snap.labels),
                       now=" / ".join(ctx.rules.labels)), snap.settings

    def compute():
        before = snap.tiers
        if "is_prospect" in before.columns:  # the prospects' name may differ (language, settings)
            before = before.assign(tier=before["tier"].where(~before["is_prospect"].fillna(False).astype(bool),
                                                              ctx.rules.prospect_label))
        return dynamics.compare_tiers(before, ctx.tiered, ctx.rules.labels, as_of_before=snap.as_of,
                                      as_of_after=ctx.as_of, prospect_label=ctx.rules.prospect_label)
    try:
        return _memo("snap_migration", (snap.id, row["created"], _tiers_key()), compute), None, None
    except ValueError:
        return None, t("mig_bad_labels"), None


# --------------------------------------------------------------------------------------------
# Churn warning, rising customers, lifecycle
# --------------------------------------------------------------------------------------------

RISK_COLUMNS = ("customer_id", "name", "tier", "risk", "reason", "recency_days", "typical_interval_days",
                "overdue_ratio", "spend_first_half", "spend_second_half", "monetary", "frequency",
                "last_order_date", "region", "city", "channel")
RISING_COLUMNS = ("customer_id", "name", "tier", "next_tier", "trend", "reason", "spend_first_half",
                  "spend_second_half", "monetary", "frequency", "region", "city", "channel")


def churn_options() -> dict:
    ss = st.session_state
    return {"k": float(ss["s_churn_k"]), "drop_share": ss["s_churn_drop"] / 100}


def churn_list(ctx: Ctx) -> pd.DataFrame:
    """Buyers at risk (:func:`segcore.dynamics.churn_risk`; lapsed customers left out)."""
    lapse = int(st.session_state["s_lapse_days"])
    options = churn_options()
    return _memo("churn", (_tiers_key(), tuple(options.values()), lapse),
                 lambda: dynamics.churn_risk(ctx.tiered, ctx.levels, lapse_days=lapse, **options))


def risk_counts(ctx: Ctx, risk: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
    """(customers at risk per tier and level, a :func:`views.cross_tab`; the total per level)."""
    by_tier = views.cross_tab(risk, "tier", "risk", ctx.rules.labels, dynamics.RISK_LEVELS)
    totals = by_tier.groupby("column")["customers"].sum()
    return by_tier, {level: int(totals.get(level, 0)) for level in dynamics.RISK_LEVELS}


def rules_table(rules: pd.DataFrame, first: str) -> None:
    """A rules table of the engine (``churn_rules`` / ``lifecycle_rules``) in the UI language,
    as a static table so the rule texts wrap."""
    columns = [first, "rule"]
    st.table(shown(rules)[columns].rename(columns={c: col_label(c) for c in columns}), hide_index=True,
             border="horizontal")


def rising_list(ctx: Ctx) -> pd.DataFrame:
    trend = st.session_state["s_rising_trend"] / 100
    return _memo("rising", (_tiers_key(), trend),
                 lambda: dynamics.rising_customers(ctx.tiered, ctx.levels, min_trend=trend))


def lifecycle_options() -> dict:
    ss = st.session_state
    return {"new_days": int(ss["s_new_days"]), "lapse_days": int(ss["s_lapse_days"]), **churn_options()}


def lifecycle_table(ctx: Ctx) -> pd.DataFrame:
    """Lifecycle stage per customer (:func:`segcore.dynamics.lifecycle`), with ``monetary``."""
    options = lifecycle_options()

    def compute():
        life = dynamics.lifecycle(ctx.cursor(), ctx.tiered, as_of=ctx.as_of, **options)
        life["monetary"] = ctx.tiered["monetary"].to_numpy()  # same rows, same order
        return life
    return _memo("lifecycle", (_tiers_key(), tuple(options.values())), compute)


def stack_counts_figure(long: pd.DataFrame, colors: dict, names: dict, title: str) -> go.Figure:
    """Customers per tier (bars), stacked by risk level or stage (a :func:`views.cross_tab`)."""
    fig = stack_figure(long, colors, title, t("tier"), False, names)
    fig.update_yaxes(title=dict(text=t("axis_customers")))
    fig.update_layout(legend=dict(orientation="h", yanchor="top", y=-0.2, xanchor="left", x=0),
                      margin=dict(b=40))
    return fig


# --------------------------------------------------------------------------------------------
# Playbook and follow-ups
# --------------------------------------------------------------------------------------------

FOLLOW_COLUMNS = ("customer_id", "name", "tier", "status", "days_overdue", "next_contact_date", "last_order_date",
                  "last_interaction_date", "cadence_days", "service_level", "strategy", "monetary",
                  "recency_days", "region", "city", "channel")


def playbook_now(labels, prospect: str) -> list[dict]:
    """The playbook for these levels: the edited rows, else the defaults (with the prospects)."""
    return views.playbook_rows(st.session_state["s_playbook"], playbooks.default_playbook(labels, prospect))


def _keep_playbook(rows: list[dict]) -> None:
    """Store edited rows; rows of other levels (e.g. before a rename) are kept as they were."""
    ss = st.session_state
    kept = {r["level"]: r for r in ss["s_playbook"]}
    kept.update({r["level"]: r for r in rows})
    ss["s_playbook"] = list(kept.values())


def replace_playbook(rows: list[dict]) -> None:
    """The playbook changed from outside the table (reset, settings): start the table afresh."""
    ss = st.session_state
    ss["s_playbook"] = rows
    ss["_pb_version"] = ss.get("_pb_version", 0) + 1


def playbook_editor(ctx: Ctx) -> list[dict]:
    """The playbook table (texts in the UI language, the level fixed); returns the rows in use."""
    ss = st.session_state
    rows = playbook_now(ctx.rules.labels, ctx.rules.prospect_label)
    levels = hashlib.sha256("|".join(r["level"] for r in rows).encode()).hexdigest()[:8]
    edited = st.data_editor(
        views.playbook_table(rows, lang()), key=f"w_playbook_{lang()}_{ss.get('_pb_version', 0)}_{levels}",
        hide_index=True, num_rows="fixed", width="stretch",
        column_config={
            "level": st.column_config.TextColumn(t("pb_level"), disabled=True, width="small"),
            "strategy": st.column_config.TextColumn(t("pb_strategy"), width="large", max_chars=300),
            "service_level": st.column_config.TextColumn(t("pb_service"), width="medium", max_chars=60),
            "cadence_days": st.column_config.NumberColumn(t("pb_cadence"), min_value=1, max_value=730, step=1,
                                                          format="%d", help=t("pb_cadence_help"))})
    merged = views.playbook_merge(rows, edited, lang())
    if merged != rows:
        _keep_playbook(merged)
    return merged


def status_counts(calls: pd.DataFrame) -> dict:
    """Customers per follow-up status (overdue, due, scheduled)."""
    return {s: int((calls["status"] == s).sum()) for s in FOLLOW_STATUSES}


def follow_up_list(ctx: Ctx, rows: list[dict]) -> pd.DataFrame:
    """Next contact date per customer (:func:`segcore.playbook.follow_ups`), overdue first."""
    return _memo("follow_ups", (_tiers_key(), repr(rows)),
                 lambda: playbooks.follow_ups(ctx.tiered, rows, as_of=ctx.as_of, labels=list(ctx.levels)))


# --------------------------------------------------------------------------------------------
# Settings file (download / upload) and named settings in the workspace
# --------------------------------------------------------------------------------------------

def settings_from_state() -> segcore.Settings:
    """Everything a re-run needs, from the session: mapping, as-of rules, tiers, churn, playbook.

    The as-of date and window start are saved only when they differ from the data's own range
    (else "latest" / the first order). Raises :class:`SettingsError` when the session's settings
    cannot be written (e.g. a level name used twice)."""
    ss = st.session_state
    spec, ds = active()
    rep = ds.report
    tiers = tier_settings()
    _, prospect, _ = current_labels()
    rows = playbook_now(tiers["labels"], prospect) if ss["s_playbook"] else []
    rows = [dict(r, level=tiers["prospect_label"]) if r["level"] == prospect else r for r in rows]
    period = ss["s_mig_period"]
    if period == "custom":
        end = ss["s_as_of"] or rep.date_max
        period = max((end - ss["s_mig_before"]).days, 1) if ss["s_mig_before"] else "quarter"
    return segcore.Settings(
        **tiers, mapping=dict(rep.mapping) if spec.saved else dict(overrides_for(spec.orders.sha)),
        **{f"{role}_mapping": dict(getattr(spec, f"{role}_mapping")) for role in SIDE_FIELDS},
        date_order=None if ss["s_date_order"] == "auto" else ss["s_date_order"],
        drop_duplicates=bool(ss["s_drop_dup"]),
        as_of=None if ss["s_as_of"] in (None, rep.date_max) else ss["s_as_of"],
        since=None if ss["s_since"] in (None, rep.date_min) else ss["s_since"],
        playbook=rows, churn_k=float(ss["s_churn_k"]), churn_drop_share=ss["s_churn_drop"] / 100,
        new_days=int(ss["s_new_days"]), lapse_days=int(ss["s_lapse_days"]),
        rising_min_trend=ss["s_rising_trend"] / 100, migration_period=period)


def _clamp(value, bounds):
    return min(max(value, bounds[0]), bounds[1])


def apply_settings(s: segcore.Settings) -> None:
    """Put settings (a file, or saved ones) into the session: the reverse of :func:`settings_from_state`."""
    ss = st.session_state
    apply_tier_settings(s)
    spec, ds = active()
    if spec.saved is None:  # a saved dataset keeps the columns it was saved with
        overrides = overrides_for(spec.orders.sha)
        overrides.clear()
        overrides.update(s.mapping)
        for role in SIDE_FIELDS:
            ref = getattr(spec, role)
            if ref is not None:
                side = side_overrides(ref.sha)
                side.clear()
                side.update(getattr(s, f"{role}_mapping"))
    ss["s_date_order"], ss["s_drop_dup"] = s.date_order or "auto", s.drop_duplicates
    ss["s_as_of"], ss["s_since"] = s.as_of, s.since
    ss["s_churn_k"] = _clamp(round(s.churn_k * 4) / 4, K_RANGE)
    ss["s_churn_drop"] = _clamp(round(s.churn_drop_share * 20) * 5, DROP_RANGE)
    ss["s_rising_trend"] = _clamp(round(s.rising_min_trend * 10) * 10, TREND_RANGE)
    ss["s_new_days"], ss["s_lapse_days"] = s.new_days, s.lapse_days
    if isinstance(s.migration_period, str):
        ss["s_mig_period"] = s.migration_period
    else:
        ss["s_mig_period"] = "custom"
        ss["s_mig_before"] = (s.as_of or ds.report.date_max) - timedelta(days=s.migration_period)
    _, prospect, _ = current_labels()
    replace_playbook([dict(r, level=prospect) if r["level"] == s.prospect_label else r for r in s.playbook])


def settings_json() -> bytes | None:
    """The session's settings as the JSON file (None, with a warning shown, when they cannot be)."""
    try:
        return settings_from_state().to_json().encode("utf-8")
    except (SettingsError, ValueError) as exc:
        st.warning(t("set_cannot", reason=str(exc)), icon=":material/warning:")
        return None


def _settings_uploaded() -> None:
    up = st.session_state.get("w_settings_file")
    if up is None:
        return
    try:
        settings = segcore.Settings.from_json(up.getvalue())
        apply_settings(settings)
    except (SettingsError, ValueError, TypeError) as exc:
        flash("settings", "error", t("set_bad_file", file=up.name, reason=str(exc)))
        return
    flash("settings", "success", t("set_applied", file=up.name))


def _save_named_settings() -> None:
    name = str(st.session_state.get("w_set_name") or "").strip()
    if not name:
        flash("settings", "warning", t("ws_need_name"))
        return
    ws, problem = workspace()
    try:
        if ws is None:
            raise WorkspaceError(problem)
        ws.save_settings(name, settings_from_state())
    except (*WS_ERRORS, SettingsError, ValueError) as exc:
        flash("settings", "error", t("ws_failed", reason=str(exc)))
        return
    st.session_state["w_set_pick"] = name
    flash("settings", "success", t("set_saved", name=name))


def _load_named_settings() -> None:
    name = st.session_state.get("w_set_pick")
    ws, problem = workspace()
    try:
        if ws is None:
            raise WorkspaceError(problem)
        apply_settings(ws.load_settings(name))
    except (*WS_ERRORS, SettingsError, ValueError) as exc:
        flash("settings", "error", t("ws_failed", reason=str(exc)))
        return
    flash("settings", "success", t("set_loaded", name=name))


def _delete_named_settings() -> None:
    name = st.session_state.get("w_set_pick")
    ws, problem = workspace()
    try:
        if ws is None:
            raise WorkspaceError(problem)
        ws.delete_settings(name)
    except WS_ERRORS as exc:
        flash("settings", "error", t("ws_failed", reason=str(exc)))
        return
    flash("settings", "success", t("set_deleted", name=name))


def settings_panel() -> None:
    """The data page's settings section: the settings file (download / upload) and named settings
    kept in the workspace."""
    ss = st.session_state
    show_flash("settings")
    file_col, ws_col = st.columns(2, gap="large")
    with file_col:
        st.markdown(f"**{t('set_file_title')}**")
        st.caption(t("set_file_note"))
        data = settings_json()
        if data is not None:
            st.download_button(t("set_download"), data=data, file_name="segcore_settings.json",
                               mime="application/json", on_click="ignore", icon=":material/download:",
                               key="w_settings_download")
        st.file_uploader(t("set_upload"), type=["json"], key="w_settings_file", on_change=_settings_uploaded,
                         help=t("set_upload_help"))
    with ws_col:
        st.markdown(f"**{t('set_ws_title')}**")
        ws, problem = workspace()
        if ws is None:
            ws_problem(problem)
            return
        name_col, button_col = st.columns([3, 1], vertical_alignment="bottom")
        name_col.text_input(t("set_name"), key="w_set_name", max_chars=80, placeholder=t("set_name_ph"))
        button_col.button(t("save"), key="w_set_save", on_click=_save_named_settings, icon=":material/save:",
                          width="stretch")
        names = list(ws.list_settings()["name"])
        if not names:
            st.caption(t("set_none"))
            return
        if ss.get("w_set_pick") not in names:
            ss["w_set_pick"] = names[0]
        pick_col, load_col, delete_col = st.columns([3, 1, 1], vertical_alignment="bottom")
        pick_col.selectbox(t("set_pick"), options=names, key="w_set_pick")
        load_col.button(t("apply"), key="w_set_load", on_click=_load_named_settings, icon=":material/input:",
                        width="stretch", type="primary")
        delete_col.button(t("delete"), key="w_set_delete", on_click=_delete_named_settings,
                          icon=":material/delete:", width="stretch")
