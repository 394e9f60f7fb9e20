//! The console's Customers group (seed 000), staff side (`orgs.manage`): organizations
//! and customer accounts (the portal's principal).

pub mod accounts;
pub mod organizations;
