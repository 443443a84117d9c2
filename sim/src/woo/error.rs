//! Errors in WordPress' wire format, `{"code","message","data"}`, plus the typed errors of the
//! control API. `data` is usually `{"status": N}` but not always (a refund with `"amount": null`
//! answers HTTP 500 with `"data": 400`), so it is kept as a value.

use super::json::OJson;

/// An error answer of the REST API.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct WooError {
    pub status: u16,
    pub code: String,
    pub message: String,
    pub data: OJson,
}

impl WooError {
    pub fn new(status: u16, code: &str, message: impl Into<String>) -> WooError {
        WooError::with_data(status, code, message, OJson::obj([("status", OJson::int(status.into()))]))
    }

    pub fn with_data(status: u16, code: &str, message: impl Into<String>, data: OJson) -> WooError {
        WooError { status, code: code.to_owned(), message: message.into(), data }
    }

    pub fn body(&self) -> OJson {
        OJson::obj([
            ("code", OJson::str(&self.code)),
            ("message", OJson::str(&self.message)),
            ("data", self.data.clone()),
        ])
    }

    /// A PHP fatal error during a REST request: WordPress's fatal-error handler answers 500 with
    /// this code and message (WP 5.2+ `wp_die` for REST requests). [INFERRED: the exact text]
    pub fn critical() -> WooError {
        WooError::new(500, "internal_server_error", "<p>There has been a critical error on this website.</p>")
    }

    pub fn no_route() -> WooError {
        WooError::new(404, "rest_no_route", "No route was found matching the URL and request method.")
    }

    /// `rest_invalid_param` with WordPress' `params` and `details` (WP 5.5+).
    pub fn invalid_param(param: &str, detail_code: &str, message: impl Into<String>) -> WooError {
        WooError::invalid_param_data(param, detail_code, message, OJson::Null)
    }

    /// [`WooError::invalid_param`] whose detail carries `data`, e.g. `{"param": "line_items[0][quantity]"}`.
    pub fn invalid_param_data(param: &str, detail_code: &str, message: impl Into<String>, detail: OJson) -> WooError {
        let message = message.into();
        let data = OJson::obj([
            ("status", OJson::int(400)),
            ("params", OJson::obj([(param, OJson::str(&message))])),
            (
                "details",
                OJson::obj([(
                    param,
                    OJson::obj([
                        ("code", OJson::str(detail_code)),
                        ("message", OJson::str(&message)),
                        ("data", detail),
                    ]),
                )]),
            ),
        ]);
        WooError::with_data(400, "rest_invalid_param", format!("Invalid parameter(s): {param}"), data)
    }

    pub fn missing_params(names: &[&str]) -> WooError {
        let data = OJson::obj([
            ("status", OJson::int(400)),
            ("params", OJson::Arr(names.iter().map(|n| OJson::str(*n)).collect())),
        ]);
        WooError::with_data(
            400,
            "rest_missing_callback_param",
            format!("Missing parameter(s): {}", names.join(", ")),
            data,
        )
    }

    pub fn not_in_enum(param: &str, shown: &str, allowed: &[&str]) -> WooError {
        WooError::invalid_param(param, "rest_not_in_enum", format!("{shown} is not one of {}.", php_list(allowed)))
    }
}

/// WordPress' `wp_sprintf_l`: `a, b, and c`; `a and b`.
pub(crate) fn php_list(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => (*one).to_owned(),
        [a, b] => format!("{a} and {b}"),
        [init @ .., last] => format!("{}, and {last}", init.join(", ")),
    }
}

/// Why a checkout was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckoutError {
    #[error("the cart is empty")]
    EmptyCart,
    #[error("product {0} does not exist")]
    UnknownProduct(u64),
    #[error("variation {variation_id} is not a variation of product {product_id}")]
    UnknownVariation { product_id: u64, variation_id: u64 },
    #[error("product {0} cannot be purchased")]
    NotPurchasable(u64),
    #[error("quantity must be at least 1")]
    InvalidQuantity,
    #[error("not enough stock of product {product_id}: {available} available, {requested} requested")]
    InsufficientStock { product_id: u64, available: i64, requested: i64 },
    #[error("coupon {0:?} does not exist")]
    UnknownCoupon(String),
    #[error("customer {0} does not exist")]
    UnknownCustomer(u64),
    #[error("{0:?} is not an order status")]
    InvalidStatus(String),
}

impl CheckoutError {
    /// The error WooCommerce's REST API gives for the same problem in `POST /orders`.
    pub(crate) fn to_rest(&self) -> WooError {
        match self {
            CheckoutError::UnknownCustomer(_) => {
                WooError::new(400, "woocommerce_rest_invalid_customer_id", "Customer ID is invalid.")
            }
            CheckoutError::UnknownCoupon(code) => {
                WooError::new(400, "woocommerce_rest_invalid_coupon", format!("Coupon \"{code}\" does not exist!"))
            }
            CheckoutError::UnknownProduct(_) | CheckoutError::UnknownVariation { .. } => {
                WooError::new(400, "woocommerce_rest_invalid_product_id", "Product ID provided is invalid.")
            }
            CheckoutError::InvalidStatus(s) => WooError::not_in_enum("status", "status", &[s.as_str()]),
            other => WooError::new(400, "woocommerce_rest_invalid_order", other.to_string()),
        }
    }
}

/// An error of the control API (or a REST error seen through it).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code} ({status}): {message}")]
pub struct SimError {
    pub status: u16,
    pub code: String,
    pub message: String,
}

impl From<WooError> for SimError {
    fn from(e: WooError) -> SimError {
        SimError { status: e.status, code: e.code, message: e.message }
    }
}

impl From<CheckoutError> for SimError {
    fn from(e: CheckoutError) -> SimError {
        e.to_rest().into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_read_like_wordpress() {
        assert_eq!(php_list(&["asc", "desc"]), "asc and desc");
        assert_eq!(php_list(&["active", "paused", "disabled"]), "active, paused, and disabled");
    }
}
