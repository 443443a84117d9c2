//! NetSuite SuiteTalk REST simulator (being written).
