//! The kinds of job wns runs, in one place: the webhook receiver and the sweep enqueue them, the
//! flows handle them, and the entity key of each is built here, so a kind or key spelled
//! differently in two files cannot happen. The queue itself runs any kind (tests use their own).

/// A job kind wns's own flows handle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JobKind {
    /// A WooCommerce order brought in step with its sales order (`order:<id>`).
    WooOrder,
    /// A WooCommerce product checked for stock drift (`product:<id>`).
    WooProduct,
    /// Document numbers and totals of posted sales orders, read back in bulk (`sales-orders`).
    SalesOrderReadBack,
}

impl JobKind {
    pub const ALL: [JobKind; 3] = [JobKind::WooOrder, JobKind::WooProduct, JobKind::SalesOrderReadBack];

    pub fn as_str(self) -> &'static str {
        match self {
            JobKind::WooOrder => "woo.order",
            JobKind::WooProduct => "woo.product",
            JobKind::SalesOrderReadBack => "netsuite.so_read_back",
        }
    }

    pub fn parse(s: &str) -> Option<JobKind> {
        JobKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// The entity key of the job for WooCommerce id `id` (`order:23`, `product:16`).
    pub fn key(self, id: impl std::fmt::Display) -> String {
        match self {
            JobKind::WooOrder => format!("order:{id}"),
            JobKind::WooProduct => format!("product:{id}"),
            JobKind::SalesOrderReadBack => "sales-orders".to_string(),
        }
    }

    /// The WooCommerce id in an entity key of this kind.
    pub fn id_of(self, key: &str) -> Option<u64> {
        let prefix = match self {
            JobKind::WooOrder => "order:",
            JobKind::WooProduct => "product:",
            JobKind::SalesOrderReadBack => return None,
        };
        key.strip_prefix(prefix)?.parse().ok()
    }
}

impl std::fmt::Display for JobKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<JobKind> for String {
    fn from(k: JobKind) -> String {
        k.as_str().to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_reads_back_and_keys_carry_their_id() {
        for k in JobKind::ALL {
            assert_eq!(JobKind::parse(k.as_str()), Some(k));
        }
        assert_eq!(JobKind::WooOrder.key(23), "order:23");
        assert_eq!(JobKind::WooOrder.id_of("order:23"), Some(23));
        assert_eq!(JobKind::WooOrder.id_of("product:23"), None);
        assert_eq!(JobKind::WooProduct.id_of(&JobKind::WooProduct.key(16)), Some(16));
    }
}
