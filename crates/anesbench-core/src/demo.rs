//! The built-in demo set (skeleton: the demo-set issue fills this in).

use crate::item::Item;

/// Every demo item, English and Chinese.
pub fn items() -> Vec<Item> {
    Vec::new()
}
