//! The console's Customers group: customer accounts (the portal's principal) and
//! organizations.

pub mod accounts;
