//! Customers (the vendor's customers, seed 000), staff side: organizations
//! (`orgs.manage`).

pub mod organizations;
