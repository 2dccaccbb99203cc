//! Credentials: signed tokens and password hashing.

pub mod jwt;
pub mod password;

pub use jwt::{Claims, JwtKeys, TokenError};
pub use password::{PasswordHasher, PlainPassword};
