//! Backlog items and what is wrong with them.

pub mod item;

pub use item::Item;
