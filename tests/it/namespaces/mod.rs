//! Namespaces, components and the verified-namespaces feed (PRODUCT.md §4).

mod owner;
