//! Record types and field names. URLs name types case-insensitively and Oracle's own examples
//! mix `companyname` with `companyName`, so both are looked up lower-cased here and stored in
//! the camelCase of the REST API Browser. A type missing from this list answers 404.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Category {
    Transaction,
    Entity,
    Item,
    Other,
}

#[derive(Debug)]
pub struct RecordType {
    pub name: &'static str,
    pub category: Category,
    /// SuiteQL `transaction.type` / `item.itemtype` code.
    pub code: &'static str,
    /// `tranId` prefix for transactions.
    pub prefix: &'static str,
}

const fn t(name: &'static str, code: &'static str, prefix: &'static str) -> RecordType {
    RecordType { name, category: Category::Transaction, code, prefix }
}
const fn e(name: &'static str) -> RecordType {
    RecordType { name, category: Category::Entity, code: "", prefix: "" }
}
const fn i(name: &'static str, code: &'static str) -> RecordType {
    RecordType { name, category: Category::Item, code, prefix: "" }
}
const fn o(name: &'static str) -> RecordType {
    RecordType { name, category: Category::Other, code: "", prefix: "" }
}

pub static RECORD_TYPES: &[RecordType] = &[
    t("salesOrder", "SalesOrd", "SO"),
    t("itemFulfillment", "ItemShip", "IF"),
    t("invoice", "CustInvc", "INV"),
    t("creditMemo", "CustCred", "CM"),
    t("cashSale", "CashSale", "CS"),
    t("cashRefund", "CashRfnd", "CR"),
    t("customerRefund", "CustRfnd", "RFND"),
    t("customerPayment", "CustPymt", "PYMT"),
    t("customerDeposit", "CustDep", "DEP"),
    t("deposit", "Deposit", "D"),
    t("journalEntry", "Journal", "JE"),
    t("returnAuthorization", "RtnAuth", "RMA"),
    t("itemReceipt", "ItemRcpt", "IR"),
    t("transferOrder", "TrnfrOrd", "TO"),
    t("purchaseOrder", "PurchOrd", "PO"),
    t("estimate", "Estimate", "EST"),
    t("fulfillmentRequest", "FulfillReq", "FR"),
    t("vendorBill", "VendBill", "BILL"),
    t("inventoryAdjustment", "InvAdjst", "ADJ"),
    e("customer"),
    e("contact"),
    e("vendor"),
    e("employee"),
    e("partner"),
    i("inventoryItem", "InvtPart"),
    i("nonInventorySaleItem", "NonInvtPart"),
    i("serviceSaleItem", "Service"),
    i("kitItem", "Kit"),
    i("assemblyItem", "Assembly"),
    i("otherChargeSaleItem", "OthCharge"),
    i("discountItem", "Discount"),
    i("giftCertificateItem", "GiftCert"),
    i("shipItem", "ShipItem"),
    o("location"),
    o("subsidiary"),
    o("account"),
    o("currency"),
    o("department"),
    o("classification"),
    o("priceLevel"),
    o("term"),
    o("message"),
    o("note"),
    o("task"),
    o("phoneCall"),
];

pub fn record_type(url_name: &str) -> Option<&'static RecordType> {
    RECORD_TYPES.iter().find(|r| r.name.eq_ignore_ascii_case(url_name))
}

pub fn item_type_for_code(code: &str) -> Option<&'static RecordType> {
    RECORD_TYPES.iter().find(|r| r.category == Category::Item && r.code.eq_ignore_ascii_case(code))
}

/// Field names as the REST API Browser spells them. Anything else keeps the spelling it came with
/// (custom fields such as `custbody_channel` are lower-case anyway).
static FIELDS: &[&str] = &[
    "account",
    "addr1",
    "addr2",
    "addr3",
    "addrPhone",
    "addressbook",
    "addressbookAddress",
    "addressee",
    "amount",
    "apply",
    "attention",
    "basePrice",
    "billingAddress",
    "city",
    "class",
    "companyName",
    "country",
    "createdDate",
    "createdFrom",
    "credit",
    "currency",
    "customForm",
    "customer",
    "debit",
    "defaultBilling",
    "defaultShipping",
    "department",
    "description",
    "discountItem",
    "displayName",
    "doc",
    "email",
    "endDate",
    "entity",
    "entityId",
    "entityStatus",
    "expectedShipDate",
    "externalId",
    "firstName",
    "isClosed",
    "isInactive",
    "isPerson",
    "isTaxable",
    "item",
    "itemId",
    "itemReceive",
    "itemType",
    "lastModifiedDate",
    "lastName",
    "line",
    "location",
    "memo",
    "name",
    "orderLine",
    "orderStatus",
    "otherRefNum",
    "package",
    "packageDescr",
    "packageTrackingNumber",
    "packageWeight",
    "payment",
    "phone",
    "price",
    "quantity",
    "quantityBilled",
    "quantityFulfilled",
    "rate",
    "refNum",
    "shipAddress",
    "shipMethod",
    "shipStatus",
    "shippingAddress",
    "shippingCost",
    "state",
    "status",
    "subsidiary",
    "taxAmount",
    "taxCode",
    "taxDetails",
    "taxRate1",
    "total",
    "tranDate",
    "tranId",
    "zip",
    "subtotal",
    "taxTotal",
    "salesPrice",
    "pickedDate",
    "packedDate",
    "shippedDate",
    "due",
    "startDate",
];

pub fn canonical_field(name: &str) -> String {
    FIELDS.iter().find(|f| f.eq_ignore_ascii_case(name)).map_or_else(|| name.to_string(), |f| (*f).to_string())
}

/// Select fields given as a bare id (`"location": 6` in Oracle's fulfilment example) instead of
/// `{"id": "6"}`.
pub fn is_reference_field(name: &str) -> bool {
    matches!(
        name,
        "entity"
            | "customer"
            | "item"
            | "location"
            | "subsidiary"
            | "account"
            | "currency"
            | "department"
            | "class"
            | "createdFrom"
            | "shipMethod"
            | "doc"
            | "taxCode"
            | "price"
            | "customForm"
            | "entityStatus"
            | "shipStatus"
            | "orderStatus"
            | "discountItem"
    )
}

/// Enumerations are rendered `{"id":"C","refName":"Shipped"}` without a link (not records).
pub fn enum_ref_name(field: &str, id: &str) -> Option<&'static str> {
    Some(match (field, id) {
        ("shipStatus", "A") => "Picked",
        ("shipStatus", "B") => "Packed",
        ("shipStatus", "C") => "Shipped",
        ("orderStatus" | "status", "A") => "Pending Approval",
        ("orderStatus" | "status", "B") => "Pending Fulfillment",
        ("orderStatus" | "status", "C") => "Cancelled",
        ("orderStatus" | "status", "D") => "Partially Fulfilled",
        ("orderStatus" | "status", "E") => "Pending Billing/Partially Fulfilled",
        ("orderStatus" | "status", "F") => "Pending Billing",
        ("orderStatus" | "status", "G") => "Billed",
        ("orderStatus" | "status", "H") => "Closed",
        ("itemType", _) => return item_type_for_code(id).map(|_| item_type_label(id)),
        _ => return None,
    })
}

pub fn item_type_label(code: &str) -> &'static str {
    match code {
        "InvtPart" => "Inventory Item",
        "NonInvtPart" => "Non-inventory Item",
        "Service" => "Service",
        "Kit" => "Kit/Package",
        "Assembly" => "Assembly/Bill of Materials",
        "OthCharge" => "Other Charge",
        "Discount" => "Discount",
        "GiftCert" => "Gift Certificate",
        _ => "Item",
    }
}

/// The record that a transform creates must be reachable from the source in NetSuite (the
/// 2026.1 REST API Browser lists, per record, the records it transforms into); there is no
/// salesOrder → creditMemo, for instance.
pub fn transform_allowed(from: &str, to: &str) -> bool {
    matches!(
        (from, to),
        ("salesOrder", "itemFulfillment" | "invoice" | "cashSale" | "returnAuthorization" | "fulfillmentRequest")
            | ("invoice", "creditMemo" | "customerPayment" | "returnAuthorization")
            | ("returnAuthorization", "creditMemo" | "cashRefund" | "itemReceipt")
            | ("cashSale", "cashRefund" | "returnAuthorization")
            | ("cashRefund", "creditMemo")
            | ("estimate", "salesOrder" | "invoice" | "cashSale")
            | ("transferOrder", "itemFulfillment")
            | ("purchaseOrder", "itemReceipt" | "vendorBill")
    )
}
