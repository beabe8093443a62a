"""Generate the bundled sample data for the customer-tiering dashboard.

Run:  python sample_data/make_sample.py            (writes next to this file)
      python sample_data/make_sample.py OUT_DIR    (writes into OUT_DIR)

Writes orders.csv, customers.csv, interactions.csv and README.md.

Deterministic: standard library only, one seeded random.Random, integer money
(cents), no set/hash-order iteration and no libm functions (exp/log/pow), so
every run produces the same bytes on any machine.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import random
import sys
from collections import Counter, defaultdict

SEED = 20241101
START = dt.date(2024, 11, 1)
END = dt.date(2026, 10, 31)
N_DAYS = (END - START).days + 1  # 730
LAST6_START = dt.date(2026, 5, 1)  # "the last 6 months" = 2026-05-01 .. 2026-10-31
YEAR2_START = dt.date(2025, 11, 1)

N_BUYERS = 3000
N_PROSPECTS = 400
N_DUPLICATES = 20
N_FULLY_RETURNED = 3
RETURN_SHARE = 0.03

ORDER_HEADER = ["Order ID", "Order Date", "Customer ID", "Product", "Category", "Quantity",
                "Unit Price", "Amount", "Region", "City", "Channel"]
CUSTOMER_HEADER = ["customer_id", "name", "region", "city", "industry", "channel",
                   "signup_date", "age_band", "gender"]
INTERACTION_HEADER = ["customer_id", "date", "type"]

TEA, WARE, GIFT, SNACK, DRINK = "茶叶 Tea", "茶具 Teaware", "礼盒 Gift Box", "零食 Snacks", "饮品 Drinks"

# (product, category, base unit price in cents, season key or None)
PRODUCTS = [
    ("绿茶 Green Tea 250g", TEA, 6800, None),
    ("龙井 Longjing 125g", TEA, 12800, None),
    ("Oolong 乌龙茶 250g", TEA, 8800, None),
    ("铁观音 Tieguanyin 250g", TEA, 9600, None),
    ("普洱茶饼 Pu'er Cake 357g", TEA, 15800, None),
    ("红茶 Black Tea 200g", TEA, 7200, None),
    ("白茶 White Tea 150g", TEA, 11000, None),
    ("茉莉花茶 Jasmine Tea 250g", TEA, 5800, None),
    ("大红袍 Da Hong Pao 125g", TEA, 16800, None),
    ("Earl Grey 伯爵茶 100g", TEA, 4500, None),
    ("菊花茶 Chrysanthemum 100g", TEA, 3200, None),
    ("碧螺春 Biluochun 100g", TEA, 11800, None),
    ("Matcha 抹茶粉 100g", TEA, 6500, None),
    ("袋泡茶 Tea Bags 100pcs", TEA, 3900, None),
    ("茶具套装 Tea Set", WARE, 29800, None),
    ("紫砂壶 Yixing Teapot", WARE, 45800, None),
    ("玻璃杯 Glass Tea Cup", WARE, 3500, None),
    ("盖碗 Gaiwan", WARE, 7800, None),
    ("公道杯 Fairness Pitcher", WARE, 4800, None),
    ("茶盘 Tea Tray", WARE, 18800, None),
    ("Tea Infuser 滤茶器", WARE, 2200, None),
    ("旅行茶具 Travel Tea Set", WARE, 12800, None),
    ("保温杯 Thermos 500ml", WARE, 9900, None),
    ("新春礼盒 Spring Festival Gift Box", GIFT, 38800, "spring"),
    ("中秋礼盒 Mid-Autumn Gift Box", GIFT, 35800, "autumn"),
    ("端午礼盒 Dragon Boat Gift Box", GIFT, 22800, "dragon"),
    ("商务礼盒 Business Gift Box", GIFT, 58800, None),
    ("龙井礼盒 Longjing Gift Box", GIFT, 26800, None),
    ("Premium Tea Gift Set 精品茶礼", GIFT, 49800, None),
    ("月饼 Mooncake 4pcs", SNACK, 8800, "autumn"),
    ("凤梨酥 Pineapple Cake 10pcs", SNACK, 4200, None),
    ("坚果 Mixed Nuts 500g", SNACK, 5900, None),
    ("绿豆糕 Mung Bean Cake", SNACK, 2600, None),
    ("芝麻糖 Sesame Candy", SNACK, 1800, None),
    ("Dried Mango 芒果干 200g", SNACK, 2400, None),
    ("蛋卷 Egg Rolls", SNACK, 2900, None),
    ("牛肉干 Beef Jerky 200g", SNACK, 4500, None),
    ("冷泡茶 Cold Brew Tea 12瓶", DRINK, 6600, None),
    ("柠檬茶 Lemon Tea 24罐", DRINK, 7900, None),
    ("Kombucha 康普茶 6 bottles", DRINK, 7200, None),
]
CATEGORIES = [TEA, WARE, GIFT, SNACK, DRINK]

# region -> (weight, cities with weights)
REGIONS = [
    ("华东 East China", 34, [("上海", 10), ("杭州", 8), ("南京", 5), ("苏州", 5), ("宁波", 3)]),
    ("华南 South China", 24, [("广州", 9), ("深圳", 9), ("厦门", 4), ("福州", 3)]),
    ("华北 North China", 18, [("北京", 12), ("天津", 5), ("石家庄", 2), ("太原", 2)]),
    ("西南 Southwest", 11, [("成都", 8), ("重庆", 6), ("昆明", 3), ("贵阳", 2)]),
    ("华中 Central China", 8, [("武汉", 6), ("长沙", 4), ("郑州", 3)]),
    ("海外 Overseas", 5, [("Singapore", 6), ("Kuala Lumpur", 3), ("London", 2), ("Vancouver", 2),
                        ("Sydney", 2)]),
]
OVERSEAS = "海外 Overseas"
# the shop's own stores (walk-in sales)
STORES = [("华东 East China", "上海", 5), ("华东 East China", "杭州", 4), ("华北 North China", "北京", 3),
          ("华南 South China", "深圳", 2)]
STORE_CITIES = [c for _, c, _ in STORES]

TMALL, WECHAT, STORE, WHOLESALE, WEB = "天猫 Tmall", "微信 WeChat", "门店 Store", "批发 Wholesale", "Website"
CHANNELS = [TMALL, WECHAT, STORE, WHOLESALE, WEB]

CATERING, RETAIL, HOTEL, CORPORATE, INDIVIDUAL = ("餐饮 Catering", "零售 Retail", "酒店 Hotel",
                                                  "企业 Corporate", "个人 Individual")

# archetype -> (share of buyers, order-count range, quantity scales, lines-per-order weights)
ARCHETYPES = [
    ("one_time", 45, (1, 1), [1], [50, 32, 18]),
    ("occasional", 28, (2, 7), [1, 1, 2, 2], [45, 35, 20]),
    ("regular", 18, (6, 20), [1, 1, 2, 2], [40, 35, 17, 8]),
    ("core", 7, (12, 32), [1, 1, 2, 2], [40, 35, 17, 8]),
    ("key", 2, (25, 45), [2, 2, 3, 4], [30, 35, 20, 10, 5]),
]

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高郑梁谢宋唐许韩冯邓曹彭曾肖田董潘袁蔡蒋余于杜叶程魏苏吕丁沈"
GIVEN = ["伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "洋", "艳", "勇", "军", "杰", "娟", "涛", "明", "超",
         "秀英", "霞", "平", "刚", "桂英", "建华", "晓东", "子涵", "雨桐", "浩然", "思远", "佳怡", "欣怡",
         "梓萱", "一鸣", "文博", "婷", "倩", "晨", "宇航", "嘉欣", "志强", "海燕"]
EN_FIRST = ["Emily", "Daniel", "Grace", "Kevin", "Sophia", "Jason", "Olivia", "Ethan", "Chloe", "Ryan",
            "Hannah", "Marcus", "Isabel", "Leo", "Amanda", "Victor", "Rachel", "Brian", "Wendy", "Alex"]
EN_LAST = ["Tan", "Lim", "Wong", "Smith", "Chen", "Lee", "Brown", "Ng", "Taylor", "Ong", "Wilson",
           "Goh", "Martin", "Koh", "Clarke", "Ho", "Walker", "Teo", "Evans", "Chua"]
CN_BRAND = ["悦来", "明远", "福记", "和顺", "鸿运", "嘉禾", "聚贤", "一品", "清风", "茗香", "好客", "金叶",
            "锦绣", "瑞丰", "德盛", "新潮", "百味", "禾木", "云间", "知味", "兰亭", "东升", "盛世", "安和"]
CN_SUFFIX = {
    CATERING: ["茶餐厅", "酒楼", "餐饮管理有限公司", "火锅店", "私房菜"],
    RETAIL: ["商行", "超市", "茶叶店", "贸易有限公司", "便利店"],
    HOTEL: ["大酒店", "精品酒店", "宾馆", "度假酒店"],
    CORPORATE: ["科技有限公司", "实业有限公司", "咨询有限公司", "集团", "文化传媒有限公司"],
}
EN_BRAND = ["Lotus", "Jade", "Harbour", "Golden Leaf", "Red Lantern", "Bamboo", "Orchid", "Silk Road",
            "Peak", "Blue Pearl", "Sunrise", "Willow"]
EN_SUFFIX = {
    CATERING: ["Cafe", "Kitchen", "Bistro", "Restaurant"],
    RETAIL: ["Trading Pte Ltd", "Mart", "Tea House", "Imports Ltd"],
    HOTEL: ["Hotel", "Suites", "Boutique Hotel"],
    CORPORATE: ["Consulting Ltd", "Holdings", "Technologies", "Group"],
}
AGE_BANDS = [("18-24", 10), ("25-34", 34), ("35-44", 28), ("45-54", 17), ("55+", 11)]
GENDERS = [("女 Female", 55), ("男 Male", 45)]


# ---------------------------------------------------------------- helpers
def day(i: int) -> dt.date:
    return START + dt.timedelta(days=i)


def idx(d: dt.date) -> int:
    return (d - START).days


def pick(rng: random.Random, weighted):
    """Weighted choice over [(value, weight), ...] (first two tuple items)."""
    total = sum(w for _, w, *rest in weighted)
    r = rng.random() * total
    acc = 0
    for item in weighted:
        acc += item[1]
        if r < acc:
            return item[0]
    return weighted[-1][0]


def money(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    cents = abs(cents)
    return f"{sign}{cents // 100}.{cents % 100:02d}"


def money_readable(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    return f"{sign}¥{abs(cents) // 100:,}.{abs(cents) % 100:02d}"


def parse_money(text: str) -> int:
    neg = text.startswith("-")
    whole, frac = text.lstrip("-").split(".")
    value = int(whole) * 100 + int(frac)
    return -value if neg else value


def in_window(d: dt.date, centre: dt.date, before: int, after: int) -> bool:
    return centre - dt.timedelta(days=before) <= d <= centre + dt.timedelta(days=after)


SPRING_FESTIVALS = [dt.date(2025, 1, 29), dt.date(2026, 2, 17)]
MID_AUTUMNS = [dt.date(2025, 10, 6), dt.date(2026, 9, 25)]
DRAGON_BOATS = [dt.date(2025, 5, 31), dt.date(2026, 6, 19)]


def season_of(d: dt.date):
    for f in SPRING_FESTIVALS:
        if in_window(d, f, 35, 3):
            return "spring"
    for f in MID_AUTUMNS:
        if in_window(d, f, 35, 1):
            return "autumn"
    for f in DRAGON_BOATS:
        if in_window(d, f, 25, 1):
            return "dragon"
    return None


def day_weight(d: dt.date) -> float:
    """Seasonality of orders: festival gift seasons, Double 11, quiet Spring Festival week."""
    w = 1.0
    for f in SPRING_FESTIVALS:
        if in_window(d, f, 28, -1):
            w = 1.7
        if in_window(d, f, 0, 7):
            w = 0.4
    for f in MID_AUTUMNS:
        if in_window(d, f, 28, -1):
            w = 1.6
    if d.month == 11 and d.day <= 11:
        w = 2.0 if d.day == 11 else 1.5
    if d.month == 12 and d.day == 12:
        w = 1.4
    if d.month == 6 and d.day == 18:
        w = 1.4
    return w


DAY_WEIGHTS = [day_weight(day(i)) for i in range(N_DAYS)]
DAY_SEASON = [season_of(day(i)) for i in range(N_DAYS)]


def sample_days(rng: random.Random, lo: int, hi: int, n: int, rising: bool) -> list[int]:
    """n order days in [lo, hi] following seasonality (and a rising trend when asked)."""
    span = hi - lo
    weights = []
    for i in range(lo, hi + 1):
        w = DAY_WEIGHTS[i]
        if rising and span > 0:
            t = (i - lo) / span
            w *= 0.3 + 3.7 * t
        weights.append(w)
    return sorted(rng.choices(range(lo, hi + 1), weights=weights, k=n))


# ---------------------------------------------------------------- customers
USED_NAMES: dict = {}


def make_name(rng: random.Random, industry: str, city: str, overseas: bool) -> str:
    english = overseas or rng.random() < 0.06
    if industry == INDIVIDUAL:  # people may share a name, as in real life
        if english:
            return f"{rng.choice(EN_FIRST)} {rng.choice(EN_LAST)}"
        return rng.choice(SURNAMES) + rng.choice(GIVEN)
    for attempt in range(20):  # company names are unique
        if english:
            name = f"{rng.choice(EN_BRAND)} {rng.choice(EN_SUFFIX[industry])}"
            if attempt >= 10:
                name = f"{name} {city}"
        else:
            name = city + rng.choice(CN_BRAND) + rng.choice(CN_SUFFIX[industry])
        if name not in USED_NAMES:
            break
    USED_NAMES[name] = True
    return name


def make_profile(rng: random.Random, archetype: str, prospect: bool = False) -> dict:
    region = pick(rng, REGIONS)
    cities = next(r[2] for r in REGIONS if r[0] == region)
    city = pick(rng, cities)
    overseas = region == OVERSEAS
    if archetype == "key":
        industry = pick(rng, [(RETAIL, 45), (CATERING, 25), (HOTEL, 15), (CORPORATE, 15)])
    elif archetype == "core":
        industry = pick(rng, [(RETAIL, 30), (CATERING, 20), (HOTEL, 12), (CORPORATE, 18), (INDIVIDUAL, 20)])
    elif archetype == "regular":
        industry = pick(rng, [(RETAIL, 15), (CATERING, 12), (HOTEL, 6), (CORPORATE, 15), (INDIVIDUAL, 52)])
    else:
        industry = pick(rng, [(RETAIL, 6), (CATERING, 5), (HOTEL, 3), (CORPORATE, 11), (INDIVIDUAL, 75)])
    if overseas:
        channel = pick(rng, [(WEB, 70), (WHOLESALE, 20 if industry != INDIVIDUAL else 0), (WECHAT, 10)])
    elif archetype == "key" or (industry in (RETAIL, CATERING, HOTEL) and rng.random() < 0.5):
        channel = pick(rng, [(WHOLESALE, 80), (WECHAT, 15), (WEB, 5)])
    else:
        channel = pick(rng, [(TMALL, 40), (WECHAT, 28), (STORE, 17), (WEB, 10), (WHOLESALE, 5)])
    # product preference: favourite categories and a handful of favourite products
    fav_cats = {
        CORPORATE: [GIFT, TEA], CATERING: [TEA, WARE], HOTEL: [TEA, WARE, DRINK], RETAIL: [TEA, SNACK, GIFT],
    }.get(industry) or rng.sample(CATEGORIES, 2)
    favourites = rng.sample(range(len(PRODUCTS)), rng.randint(2, 6))
    prod_weights = []
    for i, (name, cat, price, season) in enumerate(PRODUCTS):
        w = 1.0
        if cat in fav_cats:
            w *= 4.0
        if i in favourites:
            w *= 6.0
        prod_weights.append(w)
    age_band = gender = ""
    if industry == INDIVIDUAL:
        # a few individuals did not fill in their demographics
        if rng.random() < 0.9:
            age_band = pick(rng, AGE_BANDS)
        if rng.random() < 0.92:
            gender = pick(rng, GENDERS)
    return {
        "archetype": archetype, "region": region, "city": city, "channel": channel,
        "industry": industry, "name": make_name(rng, industry, city, overseas),
        "prod_weights": prod_weights, "age_band": age_band, "gender": gender, "prospect": prospect,
    }



def plan_lifecycle(rng: random.Random, p: dict) -> None:
    """Active window [lo, hi], number of orders, lifecycle flag."""
    arch = p["archetype"]
    lo_n, hi_n = next(a[2] for a in ARCHETYPES if a[0] == arch)
    n = rng.randint(lo_n, hi_n)
    last = N_DAYS - 1
    new_from = idx(LAST6_START)
    if arch == "one_time":
        p.update(lo=0, hi=last, n=1, life="one_time", rising=False)
        return
    r = rng.random()
    rising_share = {"occasional": 0.08, "regular": 0.22, "core": 0.25, "key": 0.2}[arch]
    if r < 0.20:  # churned: active in the first year only, nothing in the last 6 months
        hi = rng.randint(150, 365)
        lo = rng.randint(0, max(0, hi - 120)) if rng.random() < 0.6 else 0
        life = "churned"
    elif r < 0.31:  # new: started in the last 6 months
        lo = rng.randint(new_from, last - 20)
        hi = last
        life = "new"
    elif r < 0.31 + rising_share:  # rising: spend grows over time
        lo = 0 if rng.random() < 0.6 else rng.randint(0, 300)
        hi = last
        life = "rising"
    elif r < 0.31 + rising_share + 0.08:  # slipping: still bought in the second year, stopped recently
        lo = rng.randint(0, 200)
        hi = rng.randint(420, 560)
        life = "slipping"
    else:  # steady
        lo = 0 if rng.random() < 0.55 else rng.randint(0, new_from - 30)
        hi = last
        life = "steady"
    if life != "rising":
        n = max(2, (n * (hi - lo + 1) + N_DAYS // 2) // N_DAYS)
    p.update(lo=lo, hi=hi, n=n, life=life, rising=life == "rising")


# ---------------------------------------------------------------- orders
def product_pick(rng: random.Random, weights: list[float], season, exclude: list[int]) -> int:
    ws = []
    for i, (name, cat, price, s) in enumerate(PRODUCTS):
        w = weights[i]
        if i in exclude:
            w = 0.0
        elif s is not None:
            w *= 8.0 if s == season else (0.0 if name.startswith("月饼") else 0.03)
        elif cat == GIFT and season is not None:
            w *= 2.5
        ws.append(w)
    return rng.choices(range(len(PRODUCTS)), weights=ws, k=1)[0]


def unit_price(rng: random.Random, base: int, channel: str, d: dt.date) -> int:
    if channel == WHOLESALE:
        return base * 85 // 100
    if channel == TMALL and d.month == 11 and d.day <= 11:
        return base * 80 // 100
    r = rng.random()
    if r < 0.08:
        return base * 90 // 100
    if r < 0.11:
        return base * 95 // 100
    return base


def build_orders(rng: random.Random, customers: list[dict]):
    """Return a list of orders: dict(date, cust, kind, lines=[(prod, qty, price_cents)], region, city, channel)."""
    orders = []
    for c in customers:
        days = sample_days(rng, c["lo"], c["hi"], c["n"], c["rising"])
        scales = next(a[3] for a in ARCHETYPES if a[0] == c["archetype"])
        line_w = next(a[4] for a in ARCHETYPES if a[0] == c["archetype"])
        scale = rng.choice(scales)
        if c["industry"] != INDIVIDUAL and c["archetype"] in ("one_time", "occasional") and rng.random() < 0.3:
            scale = rng.choice([2, 3, 5])  # a company buying for its staff / clients
        for i in days:
            d = day(i)
            channel = c["channel"] if rng.random() < 0.9 else rng.choice(CHANNELS)
            if channel == STORE and c["channel"] != STORE and c["city"] not in STORE_CITIES:
                channel = WEB  # no store in their city
            n_lines = pick(rng, [(k + 1, w) for k, w in enumerate(line_w)])
            growth = 1.0
            if c["rising"]:
                growth = 0.6 + 1.8 * (i - c["lo"]) / max(1, c["hi"] - c["lo"])
            lines, used = [], []
            for _ in range(n_lines):
                pi = product_pick(rng, c["prod_weights"], DAY_SEASON[i], used)
                used.append(pi)
                q = rng.choice([1, 1, 1, 2, 2, 3]) * scale
                if scale > 1:
                    q = q + rng.randint(-scale // 3, scale // 3)
                q = max(1, int(q * growth + 0.5))
                lines.append((pi, q, unit_price(rng, PRODUCTS[pi][2], channel, d)))
            orders.append({"day": i, "cust": c["id"], "kind": "SO", "lines": lines, "region": c["region"],
                           "city": c["city"], "channel": channel})
    return orders


def build_walkins(rng: random.Random, n_orders: int):
    weights = [1.0] * len(PRODUCTS)
    orders = []
    for _ in range(n_orders):
        i = rng.choices(range(N_DAYS), weights=DAY_WEIGHTS, k=1)[0]
        region, city = pick(rng, [((r, c), w) for r, c, w in STORES])
        n_lines = pick(rng, [(1, 65), (2, 35)])
        lines, used = [], []
        for _ in range(n_lines):
            pi = product_pick(rng, weights, DAY_SEASON[i], used)
            used.append(pi)
            lines.append((pi, rng.choice([1, 1, 1, 2, 3]), unit_price(rng, PRODUCTS[pi][2], STORE, day(i))))
        orders.append({"day": i, "cust": "", "kind": "SO", "lines": lines, "region": region, "city": city,
                       "channel": STORE})
    return orders


def add_returns(rng: random.Random, orders: list[dict], by_cust: dict, fully_returned: list[str]):
    """Add return lines (negative quantity). Returns (n_return_lines, n_in_rt, n_in_so)."""
    protected = fully_returned
    n_purchase_lines = sum(len(o["lines"]) for o in orders)
    target = int(n_purchase_lines * RETURN_SHARE + 0.5)
    # single-order customers are left alone, so the only customers with net spend 0 are the
    # designated fully returned ones
    candidates = [(oi, li) for oi, o in enumerate(orders) if o["cust"] and o["cust"] not in protected
                  and len(by_cust[o["cust"]]) > 1 and o["day"] < N_DAYS - 2 for li in range(len(o["lines"]))]
    chosen = sorted(rng.sample(candidates, target))
    remaining = defaultdict(int)  # net spend left per customer: never return everything by accident
    for o in orders:
        remaining[o["cust"]] += sum(q * price for _, q, price in o["lines"])
    rt_orders = {}  # (cust, day) -> order
    taken_keys = {}  # (cust, day, product) already holding a return line -> avoid exact duplicates
    n_rt = n_so = 0
    for oi, li in chosen:
        o = orders[oi]
        pi, q, price = o["lines"][li]
        rq = q if (q == 1 or rng.random() < 0.7) else rng.randint(1, q - 1)
        if remaining[o["cust"]] - rq * price <= 0:
            continue
        remaining[o["cust"]] -= rq * price
        placed = False
        if rng.random() < 0.12:  # returned together with a later purchase (exchange) in the same order
            for later in by_cust[o["cust"]]:
                lo_ = orders[later]
                if o["day"] < lo_["day"] <= o["day"] + 45 and all(x[0] != pi for x in lo_["lines"]):
                    lo_["lines"].append((pi, -rq, price))
                    n_so += 1
                    placed = True
                    break
        if placed:
            continue
        rd = min(N_DAYS - 1, o["day"] + rng.randint(2, 30))
        while taken_keys.get((o["cust"], rd, pi)) and rd < N_DAYS - 1:
            rd += 1
        taken_keys[(o["cust"], rd, pi)] = True
        key = (o["cust"], rd)
        if key not in rt_orders:
            rt_orders[key] = {"day": rd, "cust": o["cust"], "kind": "RT", "lines": [], "region": o["region"],
                              "city": o["city"], "channel": o["channel"]}
        rt_orders[key]["lines"].append((pi, -rq, price))
        n_rt += 1
    # customers whose only order was fully returned
    for cid in fully_returned:
        (only,) = by_cust[cid]
        o = orders[only]
        rd = min(N_DAYS - 1, o["day"] + rng.randint(1, 10))
        rt_orders[(cid, rd)] = {"day": rd, "cust": cid, "kind": "RT",
                                "lines": [(pi, -q, price) for pi, q, price in o["lines"]],
                                "region": o["region"], "city": o["city"], "channel": o["channel"]}
        n_rt += len(o["lines"])
    orders.extend(rt_orders[k] for k in sorted(rt_orders))
    return n_rt + n_so, n_rt, n_so


def assign_order_ids(rng: random.Random, orders: list[dict]) -> None:
    orders.sort(key=lambda o: (o["day"], o["kind"], o["cust"] or "~", o["lines"][0][0]))
    counters = {}
    for o in orders:
        key = (o["day"], o["kind"])
        counters[key] = counters.get(key, rng.randint(1, 40)) + rng.choice([1, 1, 1, 1, 2, 3])
        o["id"] = f"{o['kind']}{day(o['day']).strftime('%Y%m%d')}{counters[key]:05d}"


def order_rows(orders: list[dict]) -> list[list[str]]:
    rows = []
    for o in orders:
        d = day(o["day"]).isoformat()
        for pi, q, price in o["lines"]:
            name, cat = PRODUCTS[pi][0], PRODUCTS[pi][1]
            rows.append([o["id"], d, o["cust"], name, cat, str(q), money(price), money(q * price),
                         o["region"], o["city"], o["channel"]])
    return rows


# ---------------------------------------------------------------- interactions
def build_interactions(rng: random.Random, customers: list[dict], prospects: list[dict]):
    rows, seen = [], {}
    per_arch = {"one_time": (0, 2), "occasional": (1, 4), "regular": (3, 10), "core": (6, 20), "key": (10, 30)}
    types_buyer = [("message", 40), ("call", 20), ("visit", 8), ("campaign click", 32)]
    types_big = [("message", 35), ("call", 30), ("visit", 20), ("campaign click", 15)]
    types_prospect = [("message", 30), ("call", 15), ("visit", 5), ("campaign click", 50)]

    def add(cid, i, t):
        key = (cid, i, t)
        if 0 <= i < N_DAYS and key not in seen:
            seen[key] = True
            rows.append((day(i).isoformat(), cid, t))

    for c in customers:
        a, b = per_arch[c["archetype"]]
        n = rng.randint(a, b)
        if c["archetype"] == "one_time":
            n = pick(rng, [(0, 35), (1, 40), (2, 25)])
        types = types_big if c["archetype"] in ("core", "key") else types_buyer
        lo = max(0, c["first_day"] - 30)
        hi = min(N_DAYS - 1, c["hi"] + 20)
        if c["life"] in ("new", "rising") or c["archetype"] in ("core", "key"):
            n += rng.randint(1, 4)  # active accounts get more touch points
        for _ in range(n):
            add(c["id"], rng.randint(lo, hi), pick(rng, types))
        if c["life"] in ("churned", "slipping"):  # win-back campaigns that got a click but no order
            for _ in range(rng.randint(0, 2)):
                add(c["id"], rng.randint(min(N_DAYS - 1, c["hi"] + 30), N_DAYS - 1), "campaign click")
    for p in prospects:
        n = pick(rng, [(0, 25), (1, 30), (2, 22), (3, 13), (4, 10)])
        for _ in range(n):
            add(p["id"], rng.randint(p["signup_day"], N_DAYS - 1), pick(rng, types_prospect))
    rows.sort()
    return [[cid, d, t] for d, cid, t in rows]


# ---------------------------------------------------------------- stats + README
def compute_stats(order_data: list[list[str]], customer_rows: list[list[str]], interaction_rows):
    n = len(order_data)
    row_counts = Counter(tuple(r) for r in order_data)
    dup_extra = sum(v - 1 for v in row_counts.values())
    dup_distinct = sum(1 for v in row_counts.values() if v > 1)
    empty = [r for r in order_data if r[2] == ""]
    neg = [r for r in order_data if parse_money(r[7]) < 0]
    neg_rt = [r for r in neg if r[0].startswith("RT")]
    dates = sorted(r[1] for r in order_data)
    net, order_net, first, last = defaultdict(int), defaultdict(int), {}, {}
    by_year = defaultdict(lambda: [0, 0])
    for r in order_data:
        cid = r[2]
        if not cid:
            continue
        a = parse_money(r[7])
        net[cid] += a
        order_net[(cid, r[0])] += a
        first[cid] = min(first.get(cid, r[1]), r[1])
        last[cid] = max(last.get(cid, r[1]), r[1])
        by_year[cid][0 if r[1] < YEAR2_START.isoformat() else 1] += a
    buyers = sorted(net)
    freq = Counter(cid for (cid, _), v in order_net.items() if v > 0)
    one_time = [c for c in buyers if freq[c] == 1]
    zero_net = [c for c in buyers if net[c] <= 0]
    churned = [c for c in buyers if first[c] < YEAR2_START.isoformat() and last[c] < LAST6_START.isoformat()]
    churned_repeat = [c for c in churned if freq[c] >= 2]
    new = [c for c in buyers if first[c] >= LAST6_START.isoformat()]
    rising = [c for c in buyers if by_year[c][0] > 0 and by_year[c][1] >= 2 * by_year[c][0]
              and freq[c] >= 4]
    ranked = sorted(buyers, key=lambda c: (-net[c], c))
    top_n = (len(ranked) + 4) // 5
    total_net = sum(net[c] for c in buyers)
    top_share = sum(net[c] for c in ranked[:top_n]) / total_net
    cust_ids = [r[0] for r in customer_rows]
    prospects = [c for c in cust_ids if c not in net]
    return {
        "rows": n,
        "orders_so": len({r[0]: 1 for r in order_data if r[0].startswith("SO")}),
        "orders_rt": len({r[0]: 1 for r in order_data if r[0].startswith("RT")}),
        "buyers": len(buyers),
        "customers": len(cust_ids),
        "prospects": len(prospects),
        "interactions": len(interaction_rows),
        "date_min": dates[0],
        "date_max": dates[-1],
        "dup_extra": dup_extra,
        "dup_distinct": dup_distinct,
        "empty_rows": len(empty),
        "empty_amount": sum(parse_money(r[7]) for r in empty),
        "return_rows": len(neg),
        "return_rows_rt": len(neg_rt),
        "return_rows_so": len(neg) - len(neg_rt),
        "return_amount": sum(parse_money(r[7]) for r in neg),
        "zero_net": zero_net,
        "one_time": len(one_time),
        "churned": len(churned),
        "churned_repeat": len(churned_repeat),
        "new": len(new),
        "rising": len(rising),
        "top_n": top_n,
        "top_share": top_share,
        "total_net": total_net,
        "gross": sum(parse_money(r[7]) for r in order_data),
        "products": len({r[3]: 1 for r in order_data}),
    }


def readme_text(s: dict) -> str:
    pct = lambda a, b: f"{100 * a / b:.1f}%"  # noqa: E731
    return f"""# Sample data

Fictional data of a tea shop / tea distributor (茶叶, 茶具, 礼盒, 零食, 饮品) that sells through
天猫 Tmall, 微信 WeChat, its own stores (门店 Store), wholesale (批发 Wholesale) and its website.
Use it to try the dashboard: upload `orders.csv` as transactions, `customers.csv` as the customer
master and `interactions.csv` as interactions. All names are invented.

The files are generated, not hand-edited. To rebuild them (same bytes on every run, standard library
only, fixed seed {SEED}):

    python sample_data/make_sample.py

`tests/test_sample_data.py` regenerates them into a temporary folder and checks that the committed
files are byte-identical, so change the generator, never the CSV files. All numbers below are
computed by the generator from the files it writes.

## Files

| file | rows | columns |
|---|---|---|
| `orders.csv` | {s['rows']:,} order lines ({s['orders_so']:,} sales orders `SO...`, {s['orders_rt']:,} return orders `RT...`) | `{','.join(ORDER_HEADER)}` |
| `customers.csv` | {s['customers']:,} customers: {s['buyers']:,} who bought and {s['prospects']} prospects who never bought | `{','.join(CUSTOMER_HEADER)}` |
| `interactions.csv` | {s['interactions']:,} interactions (message, call, visit, campaign click) | `{','.join(INTERACTION_HEADER)}` |

All files are UTF-8 without BOM, comma separated, one header line, `\\n` line endings, dates as
ISO `YYYY-MM-DD`. Customer ids are text (`C00001` .. `C{s['customers']:05d}`; the prospects are
`C{s['buyers'] + 1:05d}` .. `C{s['customers']:05d}`), keep the leading zeros.

`orders.csv`: one row per order line, {s['date_min']} .. {s['date_max']} (two years), {s['products']} products
in 5 categories, 6 regions with consistent cities, 5 channels. `Amount` = `Quantity` x `Unit Price`,
two decimals. Each customer has a home region/city and a preferred channel (about 90% of their orders).
Gross amount of all lines: {money_readable(s['gross'])}. Seasonality: gift boxes before Spring Festival,
Mid-Autumn (mooncakes only then) and Dragon Boat festival, Tmall Double 11 promotion prices.

`customers.csv`: name (Chinese and English people and companies), region, city, industry
(餐饮 Catering, 零售 Retail, 酒店 Hotel, 企业 Corporate, 个人 Individual), preferred channel, signup date
(buyers who were already customers before the data starts have earlier signup dates; prospects signed up
within the two years), and `age_band` / `gender` for individuals only (empty for companies and for a few
individuals who did not say).

`interactions.csv`: sorted by date, denser for frequent and recently active customers, win-back campaign
clicks for lapsed customers, and some for prospects.

## What is in it (for trying the tiers)

- Long tail: the top 20% of the buying customers by net spend ({s['top_n']} of {s['buyers']:,}) hold
  **{100 * s['top_share']:.1f}%** of the net revenue ({money_readable(s['total_net'])}, walk-in sales excluded).
- {s['one_time']:,} customers ({pct(s['one_time'], s['buyers'])}) have exactly one order (frequency 1).
- {s['churned']} churned customers: first purchase before {YEAR2_START.isoformat()}, nothing since
  {LAST6_START.isoformat()} (the last 6 months); {s['churned_repeat']} of them had 2 or more orders.
- {s['new']} new customers: first purchase on or after {LAST6_START.isoformat()}.
- {s['rising']} rising customers: 4+ orders and net spend in the second year
  ({YEAR2_START.isoformat()} ..) at least twice the first year's.
- {s['prospects']} prospects in `customers.csv` with no order at all (the Iron / prospect level).

## Quirks real exports have (exact counts)

- **Returns**: {s['return_rows']} lines with negative `Quantity` and `Amount` ({pct(s['return_rows'], s['rows'])} of
  the lines, total {money_readable(s['return_amount'])}). Each is dated after an earlier purchase of the same product
  by the same customer. {s['return_rows_rt']} are in separate return orders whose id starts with `RT`;
  {s['return_rows_so']} sit inside a later `SO` order of the same customer (an exchange).
- **Fully returned**: {len(s['zero_net'])} customers ({', '.join(s['zero_net'])}) whose only order was returned
  in full: net spend 0 and no order with a positive amount.
- **Walk-in sales**: {s['empty_rows']} lines ({pct(s['empty_rows'], s['rows'])}) with an empty `Customer ID`
  (store sales without a member card, {money_readable(s['empty_amount'])}).
- **Exact duplicates**: {s['dup_extra']} rows are an exact copy of the row just before them (a line written
  twice; {s['dup_distinct']} distinct lines affected). They are kept by default and only counted.
- Several lines per order for many orders; order ids are not consecutive (gaps).
"""


# ---------------------------------------------------------------- main
def write_csv(path: str, header: list[str], rows) -> None:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write(buf.getvalue())


def generate():
    rng = random.Random(SEED)
    USED_NAMES.clear()

    # buyers
    buyers = []
    for _ in range(N_BUYERS):
        arch = pick(rng, [(a[0], a[1]) for a in ARCHETYPES])
        p = make_profile(rng, arch)
        plan_lifecycle(rng, p)
        buyers.append(p)
    # ids are handed out as customers arrive: order of first purchase
    for k, p in enumerate(buyers):
        p["id"] = f"T{k:05d}"
    orders = build_orders(rng, buyers)
    first_day = {}
    for o in orders:
        first_day[o["cust"]] = min(first_day.get(o["cust"], N_DAYS), o["day"])
    for k, p in enumerate(buyers):
        p["first_day"] = first_day[p["id"]]
        p["tmp"] = k
    buyers.sort(key=lambda p: (p["first_day"], p["tmp"]))
    rename = {}
    for k, p in enumerate(buyers):
        rename[p["id"]] = f"C{k + 1:05d}"
        p["id"] = rename[p["id"]]
    for o in orders:
        o["cust"] = rename[o["cust"]]

    # walk-in sales (empty customer id), ~1.5% of the lines
    walkins = build_walkins(rng, 300)

    by_cust = defaultdict(list)
    orders.sort(key=lambda o: (o["cust"], o["day"]))
    for oi, o in enumerate(orders):
        by_cust[o["cust"]].append(oi)
    one_timers = [p["id"] for p in buyers if p["archetype"] == "one_time" and p["first_day"] < 300]
    fully_returned = sorted(rng.sample(one_timers, N_FULLY_RETURNED))
    add_returns(rng, orders, by_cust, fully_returned)
    orders.extend(walkins)
    assign_order_ids(rng, orders)
    rows = order_rows(orders)
    # exact duplicates: a line written twice
    dup_idx = sorted(rng.sample([k for k, r in enumerate(rows) if not r[5].startswith("-")], N_DUPLICATES))
    out_rows = []
    for k, r in enumerate(rows):
        out_rows.append(r)
        if dup_idx and dup_idx[0] == k:
            dup_idx.pop(0)
            out_rows.append(list(r))

    # customer master: buyers + prospects
    customer_rows = []
    for p in buyers:
        f = p["first_day"]
        if f < 60 and rng.random() < 0.8:  # existing customers from before the data starts
            signup = dt.date(2019, 1, 1) + dt.timedelta(days=rng.randint(0, (START - dt.date(2019, 1, 1)).days - 1))
        else:
            signup = day(f) - dt.timedelta(days=rng.randint(0, 45))
        customer_rows.append([p["id"], p["name"], p["region"], p["city"], p["industry"], p["channel"],
                              signup.isoformat(), p["age_band"], p["gender"]])
    prospects = []
    for k in range(N_PROSPECTS):
        p = make_profile(rng, pick(rng, [("one_time", 70), ("occasional", 25), ("regular", 5)]), prospect=True)
        p["id"] = f"C{N_BUYERS + k + 1:05d}"
        p["signup_day"] = rng.randint(0, N_DAYS - 1)
        prospects.append(p)
    prospects.sort(key=lambda p: (p["signup_day"], p["id"]))
    for k, p in enumerate(prospects):
        p["id"] = f"C{N_BUYERS + k + 1:05d}"
        customer_rows.append([p["id"], p["name"], p["region"], p["city"], p["industry"], p["channel"],
                              day(p["signup_day"]).isoformat(), p["age_band"], p["gender"]])

    interaction_rows = build_interactions(rng, buyers, prospects)
    return out_rows, customer_rows, interaction_rows


def main(out_dir: str | None = None) -> dict:
    out_dir = out_dir or os.path.dirname(os.path.abspath(__file__))
    os.makedirs(out_dir, exist_ok=True)
    order_data, customer_rows, interaction_rows = generate()
    write_csv(os.path.join(out_dir, "orders.csv"), ORDER_HEADER, order_data)
    write_csv(os.path.join(out_dir, "customers.csv"), CUSTOMER_HEADER, customer_rows)
    write_csv(os.path.join(out_dir, "interactions.csv"), INTERACTION_HEADER, interaction_rows)
    stats = compute_stats(order_data, customer_rows, interaction_rows)
    # the quirks are exact by construction; fail loudly if a change breaks that
    assert stats["dup_extra"] == N_DUPLICATES == stats["dup_distinct"], stats["dup_extra"]
    assert len(stats["zero_net"]) == N_FULLY_RETURNED, stats["zero_net"]
    assert (stats["date_min"], stats["date_max"]) == (START.isoformat(), END.isoformat())
    with open(os.path.join(out_dir, "README.md"), "w", encoding="utf-8", newline="") as f:
        f.write(readme_text(stats))
    return stats


if __name__ == "__main__":
    s = main(sys.argv[1] if len(sys.argv) > 1 else None)
    for k, v in s.items():
        if k == "top_share":
            v = f"{100 * v:.1f}%"
        print(f"{k}: {v}")
