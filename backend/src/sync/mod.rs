//! The flows, one file each (see `shared/DESIGN.md`): so far the customers every order needs.

pub mod customers;
