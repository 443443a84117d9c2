//! The flows, one file each (see `shared/DESIGN.md`): so far the customers every order needs and
//! the mapping of an order to its sales order.

pub mod customers;
pub mod orders;
