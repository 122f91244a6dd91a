//! Cart and order types and the pure total rule.

use crate::shared::Money;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CartLine {
    pub sku: String,
    pub name: String,
    pub image: String,
    pub quantity: i64,
    pub unit_cents: i64,
    /// The product's base price (the dynamic price's reference), for the pricing report.
    pub base_cents: i64,
    pub line_cents: i64,
    /// Current stock, so the cart can warn before checkout does.
    pub stock: i64,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Cart {
    pub items: Vec<CartLine>,
    pub total_cents: i64,
    /// Units in the cart (the header badge).
    pub count: i64,
}

impl Cart {
    /// Builds a cart from lines, computing each line total and the cart total in cents.
    /// `None` on overflow, which cannot happen with capped quantities and sane prices but
    /// is never silently wrapped.
    pub fn from_lines(mut items: Vec<CartLine>) -> Option<Cart> {
        let mut total = Money::ZERO;
        let mut count: i64 = 0;
        for line in &mut items {
            let line_total = Money::from_cents(line.unit_cents).checked_times(line.quantity)?;
            line.line_cents = line_total.cents();
            total = total.checked_add(line_total)?;
            count = count.checked_add(line.quantity)?;
        }
        Some(Cart { items, total_cents: total.cents(), count })
    }

    /// Lines asking for more than is in stock.
    pub fn short_lines(&self) -> impl Iterator<Item = &CartLine> {
        self.items.iter().filter(|line| line.quantity > line.stock)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct OrderLine {
    pub sku: String,
    pub name: String,
    pub quantity: i64,
    pub unit_cents: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Order {
    pub id: i64,
    pub total_cents: i64,
    pub status: String,
    pub created_at: i64,
    pub lines: Vec<OrderLine>,
    /// Points spent on the order and the discount they bought.
    #[serde(default)]
    pub points_redeemed: i64,
    #[serde(default)]
    pub discount_cents: i64,
    /// Points the order earns (pending until it is fulfilled).
    #[serde(default)]
    pub points_earned: i64,
}

impl Order {
    /// What was paid in money: the total less the points discount.
    pub fn paid_cents(&self) -> i64 {
        self.total_cents - self.discount_cents
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(unit_cents: i64, quantity: i64) -> CartLine {
        CartLine {
            sku: "A-1".into(),
            name: "A".into(),
            image: String::new(),
            quantity,
            unit_cents,
            base_cents: unit_cents,
            line_cents: 0,
            stock: 10,
        }
    }

    #[test]
    fn the_total_is_the_sum_of_unit_price_times_quantity() {
        let cart = Cart::from_lines(vec![line(1999, 3), line(1, 1)]).unwrap();
        assert_eq!(cart.total_cents, 5998);
        assert_eq!(cart.count, 4);
        assert_eq!(cart.items[0].line_cents, 5997);
    }

    #[test]
    fn an_overflowing_cart_is_refused() {
        assert!(Cart::from_lines(vec![line(i64::MAX, 2)]).is_none());
    }

    #[test]
    fn lines_beyond_stock_are_reported() {
        let cart = Cart::from_lines(vec![line(100, 11)]).unwrap();
        assert_eq!(cart.short_lines().count(), 1);
    }
}

/// Why a cart or checkout form was refused, as a stable code for the URL after a plain form
/// post (see `accounts::domain::FormError` for why codes and not text).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CartNotice {
    OutOfStock,
    NotEnoughStock,
    BadQuantity,
    PriceChanged,
    StockChanged,
    EmptyCart,
    /// More points than the balance, or than half the order.
    Points,
}

impl CartNotice {
    const ALL: [CartNotice; 7] = [
        CartNotice::OutOfStock,
        CartNotice::NotEnoughStock,
        CartNotice::BadQuantity,
        CartNotice::PriceChanged,
        CartNotice::StockChanged,
        CartNotice::EmptyCart,
        CartNotice::Points,
    ];

    pub fn code(self) -> &'static str {
        match self {
            CartNotice::OutOfStock => "out_of_stock",
            CartNotice::NotEnoughStock => "not_enough_stock",
            CartNotice::BadQuantity => "bad_quantity",
            CartNotice::PriceChanged => "price_changed",
            CartNotice::StockChanged => "stock_changed",
            CartNotice::EmptyCart => "empty_cart",
            CartNotice::Points => "points",
        }
    }

    pub fn from_code(code: &str) -> Option<CartNotice> {
        CartNotice::ALL.into_iter().find(|notice| notice.code() == code)
    }

    pub fn message(self) -> &'static str {
        match self {
            CartNotice::OutOfStock => "Sorry, this item is out of stock.",
            CartNotice::NotEnoughStock => "We do not have that many in stock.",
            CartNotice::BadQuantity => "Choose a quantity between 1 and 999.",
            CartNotice::PriceChanged => {
                "Prices changed since you last looked. Please check the new total and confirm again."
            }
            CartNotice::StockChanged => "Some items are no longer available in the quantity you chose.",
            CartNotice::EmptyCart => "Your cart is empty.",
            CartNotice::Points => "You can use up to your balance, and points can pay at most half of the order.",
        }
    }
}

#[cfg(test)]
mod notice_tests {
    use super::CartNotice;

    #[test]
    fn every_notice_round_trips_through_its_code() {
        for notice in CartNotice::ALL {
            assert_eq!(CartNotice::from_code(notice.code()), Some(notice));
        }
    }
}

/// Whether a one-click add-on may still join an order: it is not yet fulfilled, cancelled or
/// refunded, and was placed less than `window_ms` ago (the same shipment is still open).
pub fn addon_open(status: &str, created_at: i64, now: i64, window_ms: i64) -> bool {
    status == "placed" && now >= created_at && now - created_at < window_ms
}

/// Why a post-purchase add-on was refused, as the `?addon=` code the order page explains.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AddonRefusal {
    /// The window is over or the order has shipped.
    Closed,
    SoldOut,
    /// The product is already in the order.
    InOrder,
}

impl AddonRefusal {
    pub const ALL: [AddonRefusal; 3] = [AddonRefusal::Closed, AddonRefusal::SoldOut, AddonRefusal::InOrder];

    pub fn code(self) -> &'static str {
        match self {
            AddonRefusal::Closed => "closed",
            AddonRefusal::SoldOut => "sold_out",
            AddonRefusal::InOrder => "in_order",
        }
    }

    pub fn parse(code: &str) -> Option<AddonRefusal> {
        AddonRefusal::ALL.into_iter().find(|refusal| refusal.code() == code)
    }

    pub fn message(self) -> &'static str {
        match self {
            AddonRefusal::Closed => "This order can no longer take add-ons: its window has closed or it has shipped.",
            AddonRefusal::SoldOut => "Sorry, that product has just sold out.",
            AddonRefusal::InOrder => "That product is already in this order.",
        }
    }
}

#[cfg(test)]
mod addon_tests {
    use super::*;

    #[test]
    fn the_addon_window_is_open_only_for_a_recent_unshipped_order() {
        let minute = 60_000;
        assert!(addon_open("placed", 0, 29 * minute, 30 * minute));
        assert!(!addon_open("placed", 0, 30 * minute, 30 * minute));
        assert!(!addon_open("fulfilled", 0, minute, 30 * minute));
        assert!(!addon_open("cancelled", 0, minute, 30 * minute));
        assert!(!addon_open("placed", 10 * minute, 0, 30 * minute), "a clock behind the order is not trusted");
    }

    #[test]
    fn every_refusal_round_trips_through_its_code() {
        for refusal in AddonRefusal::ALL {
            assert_eq!(AddonRefusal::parse(refusal.code()), Some(refusal));
        }
        assert_eq!(AddonRefusal::parse("nope"), None);
    }
}
