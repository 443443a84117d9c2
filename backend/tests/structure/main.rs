//! Checks on the code's and the database's shape, in one test binary: the layers point one way,
//! and both engines' migrations describe the same database.

mod docs;
mod layers;
mod migrations;
