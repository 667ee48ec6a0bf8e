//! What a license is for: the products it covers and the purposes a partner
//! may use it for, with their form values and labels.

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Product {
    Saas,
    SelfManaged,
}

impl Product {
    pub const ALL: [Product; 2] = [Product::Saas, Product::SelfManaged];

    /// Accepts the form value (`saas`, `self_managed`), which is also the
    /// stored value.
    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.as_str() == value.trim())
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Product::Saas => "saas",
            Product::SelfManaged => "self_managed",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Product::Saas => "SaaS",
            Product::SelfManaged => "Self-Managed",
        }
    }
}

impl std::fmt::Display for Product {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.label())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Purpose {
    Training,
    IntegrationTesting,
    Demos,
}

impl Purpose {
    pub const ALL: [Purpose; 3] = [
        Purpose::Training,
        Purpose::IntegrationTesting,
        Purpose::Demos,
    ];

    /// Accepts the form value (`training`, `integration_testing`, `demos`),
    /// which is also the stored value.
    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.as_str() == value.trim())
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::Training => "training",
            Purpose::IntegrationTesting => "integration_testing",
            Purpose::Demos => "demos",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Purpose::Training => "Internal training",
            Purpose::IntegrationTesting => "Integration testing",
            Purpose::Demos => "Product demonstrations to prospects",
        }
    }
}

impl std::fmt::Display for Purpose {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.label())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn products_round_trip_through_their_form_values() {
        for (value, product, label) in [
            ("saas", Product::Saas, "SaaS"),
            ("self_managed", Product::SelfManaged, "Self-Managed"),
        ] {
            assert_eq!(Product::parse(value), Some(product));
            assert_eq!(product.as_str(), value);
            assert_eq!(product.to_string(), label);
        }
    }

    #[test]
    fn purposes_round_trip_through_their_form_values() {
        for (value, purpose, label) in [
            ("training", Purpose::Training, "Internal training"),
            (
                "integration_testing",
                Purpose::IntegrationTesting,
                "Integration testing",
            ),
            (
                "demos",
                Purpose::Demos,
                "Product demonstrations to prospects",
            ),
        ] {
            assert_eq!(Purpose::parse(value), Some(purpose));
            assert_eq!(purpose.as_str(), value);
            assert_eq!(purpose.to_string(), label);
        }
    }

    #[test]
    fn labels_and_unknown_values_are_not_form_values() {
        for bad in ["SaaS", "Self-Managed", "dedicated", "", "self-managed"] {
            assert_eq!(Product::parse(bad), None, "{bad:?} was accepted");
        }
        for bad in ["Internal training", "production", ""] {
            assert_eq!(Purpose::parse(bad), None, "{bad:?} was accepted");
        }
    }
}
