"""Header recognition: which column of an orders file holds which canonical field.

Headers are compared after normalisation (lower case, without spaces, underscores, hyphens, dots,
slashes and brackets), so ``Customer ID``, ``customer_id`` and ``CustomerID`` are the same name.
The synonym table is data: one entry per canonical field, strongest name first.
"""

from __future__ import annotations

import re

__all__ = ["CANONICAL_FIELDS", "SYNONYMS", "CUSTOMER_FIELDS", "INTERACTION_FIELDS", "normalise_header",
           "guess_mapping"]

#: Canonical order fields, in the order the mapping UI shows them.
CANONICAL_FIELDS: tuple[str, ...] = (
    "customer_id",
    "order_date",
    "amount",
    "quantity",
    "unit_price",
    "order_id",
    "product",
    "category",
    "region",
    "city",
    "channel",
)

#: Names (normalised) that identify each field, strongest first. Covers English and Chinese
#: spellings and the headers of common exports (UCI Online Retail, Shopify, WooCommerce, Olist,
#: Tableau Superstore, Taobao/Tmall, JD, Youzan, Kingdee/Yonyou ERPs, CDNOW).
SYNONYMS: dict[str, tuple[str, ...]] = {
    "customer_id": (
        "customerid", "customer", "customerno", "customernumber", "customercode", "clientid",
        "client", "clientcode", "buyerid", "buyer", "memberid", "member", "memberno", "userid",
        "user", "accountid", "account", "customeruniqueid", "customeruserid", "customeruser",
        "cust", "custid", "custno", "custnumber", "custcode", "cid", "clientno", "buyerno",
        "shopperid", "shopper", "visitorid", "visitor", "guestid", "guest", "patronid", "patron",
        "contactid", "personid", "subscriberid", "subscriber", "uid",
        "客户编号", "客户id", "客户代码", "客户编码", "客户号", "客户", "会员编号", "会员id", "会员卡号",
        "会员号", "会员", "用户id", "用户编号", "用户", "买家id", "买家会员名", "买家昵称", "买家账号",
        "买家", "顾客编号", "顾客id", "顾客", "购买人", "下单人", "收货人手机号", "手机号",
        "customername", "clientname", "客户名称", "客户姓名", "顾客姓名", "会员名称", "会员姓名",
        "email", "customeremail", "billingemail", "邮箱",
    ),
    "order_date": (
        "orderdate", "invoicedate", "date", "transactiondate", "purchasedate", "saledate",
        "salesdate", "orderpurchasetimestamp", "ordertime", "orderdatetime", "createdat",
        "orderedat", "paiddate", "paidat", "paytime", "paymenttime", "paymentdate", "purchasetime",
        "createtime", "createdtime", "datetime", "timestamp", "time", "day",
        "visitdate", "visittime", "visitedat", "checkindate", "checkintime", "checkin",
        "eventdate", "eventtime", "logdate",
        "订单日期", "下单日期", "下单时间", "订单时间", "订单创建时间", "创建时间", "付款时间", "支付时间",
        "成交时间", "成交日期", "交易日期", "交易时间", "销售日期", "单据日期", "开票日期", "购买日期",
        "购买时间", "日期", "时间",
    ),
    "amount": (
        "amount", "netamount", "totalamount", "ordertotal", "orderamount", "linetotal",
        "lineamount", "salesamount", "sales", "revenue", "netsales", "totalsales", "total",
        "totalprice", "subtotal", "paymentvalue", "dollarvalue", "value", "spend", "turnover",
        "实付金额", "实付款", "买家实际支付金额", "实收金额", "实际支付金额", "支付金额", "付款金额",
        "订单金额", "成交金额", "销售金额", "销售额", "总金额", "金额", "价税合计", "含税金额",
        "应付金额", "合计金额", "合计", "总价", "营业额", "消费金额",
    ),
    "quantity": (
        "quantity", "qty", "units", "unitssold", "numberofitems", "numberofcds", "count",
        "lineitemquantity", "数量", "购买数量", "商品数量", "销售数量", "件数", "宝贝数量",
    ),
    "unit_price": (
        "unitprice", "price", "priceeach", "itemprice", "saleprice", "lineitemprice", "单价",
        "商品单价", "销售单价", "含税单价", "价格", "售价", "商品价格",
    ),
    "order_id": (
        "orderid", "orderno", "ordernumber", "invoice", "invoiceno", "invoicenumber",
        "invoiceid", "transactionid", "receiptno", "receiptid", "billno", "ordercode",
        "订单编号", "订单号", "订单id", "单据编号", "单号", "发票号", "小票号", "流水号", "交易号",
    ),
    "product": (
        "product", "productname", "productid", "item", "itemname", "description", "stockcode",
        "sku", "skuname", "lineitemname", "productcode", "title", "goods", "goodsname",
        "商品名称", "商品", "产品名称", "产品", "宝贝标题", "商品标题", "品名", "货品名称", "物料名称",
        "商品编码", "商品编号", "产品编号", "货号", "sku编码",
    ),
    "category": (
        "category", "productcategory", "productcategoryname", "subcategory", "department",
        "producttype", "type", "类目", "品类", "商品类别", "商品分类", "类别", "分类", "产品类别",
    ),
    "region": (
        "region", "country", "state", "province", "area", "territory", "billingprovince",
        "shippingprovince", "customerstate", "区域", "地区", "大区", "省份", "省", "收货省份",
        "国家", "片区",
    ),
    "city": (
        "city", "town", "billingcity", "shippingcity", "customercity", "城市", "市", "收货城市",
        "所在城市",
    ),
    "channel": (
        "channel", "saleschannel", "source", "platform", "store", "shop", "segment",
        "渠道", "销售渠道", "来源", "平台", "店铺", "门店", "订单来源",
    ),
}

#: Fields of the optional customers file (every other column is kept as an attribute).
CUSTOMER_FIELDS: dict[str, tuple[str, ...]] = {
    "customer_id": SYNONYMS["customer_id"][:SYNONYMS["customer_id"].index("customername")],
    "name": ("name", "customername", "clientname", "companyname", "company", "fullname",
             "客户名称", "客户姓名", "姓名", "名称", "公司名称", "公司", "会员名称", "会员姓名", "顾客姓名"),
}

#: Fields of the optional interactions file.
INTERACTION_FIELDS: dict[str, tuple[str, ...]] = {
    "customer_id": SYNONYMS["customer_id"],
    "date": ("date", "interactiondate", "contactdate", "activitydate", "eventdate", "time",
             "timestamp", "datetime", "createdat") + SYNONYMS["order_date"],
    "type": ("type", "interactiontype", "activitytype", "eventtype", "event", "action", "kind",
             "channel", "类型", "互动类型", "方式", "联系方式", "事件", "行为"),
}

_STRIP = re.compile(r"[\s_\-./\\()\[\]（）【】:：#]+")


def normalise_header(name: str) -> str:
    """Lower-case a header and drop spaces, underscores and punctuation (``"Customer ID"`` -> ``"customerid"``)."""
    return _STRIP.sub("", str(name).replace("\ufeff", "")).lower()


def guess_mapping(headers: list[str], synonyms: dict[str, tuple[str, ...]] = SYNONYMS) -> dict[str, str]:
    """Guess which header holds each canonical field.

    Parameters
    ----------
    headers : list of str
        The file's column names, as written in the file.
    synonyms : ``{field: names}``, strongest first; the orders fields by default.

    Returns
    -------
    dict
        ``{canonical_field: header}`` for the fields that were recognised. Each header is used for
        at most one field; a stronger synonym wins over a weaker one, and the order of the
        fields breaks ties (so ``Customer ID`` is never taken as a product).
    """
    normalised = [normalise_header(h) for h in headers]
    candidates = []  # (synonym rank, field rank, column index, field)
    for field_rank, (field, names) in enumerate(synonyms.items()):
        ranks = {name: rank for rank, name in enumerate(names)}
        for col, norm in enumerate(normalised):
            if norm in ranks:
                candidates.append((ranks[norm], field_rank, col, field))
    mapping: dict[str, str] = {}
    used: set[int] = set()
    for _, _, col, field in sorted(candidates):
        if field not in mapping and col not in used:
            mapping[field] = headers[col]
            used.add(col)
    return mapping
