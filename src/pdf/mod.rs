//! PDF documents billstream makes itself (the same in sandbox and Stripe mode).

pub mod invoice;
mod writer;

#[cfg(test)]
mod tests;

pub use invoice::{render, InvoiceDocument, Seller};
