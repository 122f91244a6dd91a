//! Server-rendered SVG charts for the admin pages: accessible (a `<title>` and a `<desc>`
//! that spells out every value, so the chart reads without seeing it) and free of scripts.

use crate::shared::format_utc_date;
use leptos::prelude::*;

/// One series of a [`DailyBars`] chart: a value per day, drawn as the `bar-{n}` class.
#[derive(Clone, Debug)]
pub struct Series {
    pub label: &'static str,
    pub values: Vec<i64>,
    pub unit: Unit,
}

/// How a series' values read in the chart's description.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    Count,
    /// Cents, read as money.
    Cents,
    /// Basis points, read as a percentage.
    BasisPoints,
    /// Milliseconds, read as seconds.
    Millis,
}

impl Series {
    pub fn new(label: &'static str, values: Vec<i64>) -> Series {
        Series { label, values, unit: Unit::Count }
    }

    pub fn money(label: &'static str, values: Vec<i64>) -> Series {
        Series { label, values, unit: Unit::Cents }
    }

    pub fn with_unit(self, unit: Unit) -> Series {
        Series { unit, ..self }
    }

    fn describe(&self, i: usize) -> String {
        let value = self.values.get(i).copied().unwrap_or(0);
        let text = match self.unit {
            Unit::Count => value.to_string(),
            Unit::Cents => crate::shared::Money::from_cents(value).to_string(),
            Unit::BasisPoints => format!("{}.{:02} %", value / 100, (value % 100).abs()),
            Unit::Millis => format!("{} s", value / 1000),
        };
        format!("{text} {}", self.label)
    }
}

/// Bars per day (side by side, one per series, on a shared scale), with an optional line on
/// its own scale (e.g. a running balance over daily flows). `days` are UTC day numbers.
#[component]
pub fn DailyBars(
    /// `data-testid` and the prefix of the title's and description's element ids.
    id: &'static str,
    title: &'static str,
    /// Said instead of the values when there are no days.
    #[prop(default = "No days in the range.")]
    empty: &'static str,
    days: Vec<i64>,
    bars: Vec<Series>,
    #[prop(optional)] line: Option<Series>,
    /// Series only described, not drawn (e.g. expired points beside issued and redeemed).
    #[prop(optional)]
    notes: Vec<Series>,
    #[prop(default = 140)] height: i64,
) -> impl IntoView {
    const WIDTH: i64 = 600;
    let max = bars.iter().flat_map(|s| s.values.iter().copied()).max().unwrap_or(0).max(1);
    let slot = if days.is_empty() { WIDTH } else { WIDTH / days.len() as i64 };
    let bar = (slot / bars.len().max(1) as i64 - 1).max(1);
    let value = |series: &Series, i: usize| series.values.get(i).copied().unwrap_or(0);
    let description = days
        .iter()
        .enumerate()
        .map(|(i, day)| {
            let values = bars
                .iter()
                .chain(notes.iter())
                .chain(line.iter())
                .map(|series| series.describe(i))
                .collect::<Vec<_>>()
                .join(", ");
            format!("{}: {values}", format_utc_date(day * 86_400_000))
        })
        .collect::<Vec<_>>()
        .join("; ");
    let description = if description.is_empty() { empty.to_string() } else { description };
    let polyline = line.as_ref().map(|series| {
        let max = series.values.iter().copied().max().unwrap_or(0).max(1);
        let points = (0..days.len())
            .map(|i| format!("{},{}", i as i64 * slot + slot / 2, height - height * value(series, i) / max))
            .collect::<Vec<_>>()
            .join(" ");
        view! { <polyline points=points class="outstanding-line" /> }
    });
    let groups = days
        .iter()
        .enumerate()
        .map(|(i, day)| {
            let x = i as i64 * slot;
            let rects = bars
                .iter()
                .enumerate()
                .map(|(n, series)| {
                    let h = height * value(series, i) / max;
                    view! {
                        <rect x=x + n as i64 * bar y=height - h width=bar height=h class=format!("bar-{}", n + 1) />
                    }
                })
                .collect_view();
            let label = (i % 7 == 0).then(|| {
                view! {
                    <text x=x y=height + 14 class="label">
                        {format_utc_date(day * 86_400_000)[5..].to_string()}
                    </text>
                }
            });
            view! { <g>{rects} {label}</g> }
        })
        .collect_view();
    view! {
        <svg
            class="chart"
            data-testid=id
            viewBox=format!("0 0 {WIDTH} {}", height + 20)
            role="img"
            aria-labelledby=format!("{id}-title {id}-desc")
        >
            <title id=format!("{id}-title")>{title}</title>
            <desc id=format!("{id}-desc")>{description}</desc>
            {groups}
            {polyline}
        </svg>
    }
}

/// One bar of a [`Bars`] chart: its label, its length and the text shown beside it.
#[derive(Clone, Debug)]
pub struct Bar {
    pub label: String,
    pub value: i64,
    pub text: String,
}

/// Horizontal bars, one per labelled item (best sellers, plans, recommendation kinds).
#[component]
pub fn Bars(
    /// `data-testid` and the prefix of the title's and description's element ids.
    id: &'static str,
    title: &'static str,
    /// Said instead of the values when there are no bars.
    empty: &'static str,
    bars: Vec<Bar>,
) -> impl IntoView {
    const WIDTH: i64 = 600;
    const LABEL: i64 = 200;
    const ROW: i64 = 24;
    let max = bars.iter().map(|b| b.value).max().unwrap_or(0).max(1);
    let description = bars.iter().map(|b| format!("{}: {}", b.label, b.text)).collect::<Vec<_>>().join("; ");
    let description = if description.is_empty() { empty.to_string() } else { description };
    let height = (bars.len() as i64 * ROW).max(ROW);
    let rows = bars
        .into_iter()
        .enumerate()
        .map(|(i, bar)| {
            let y = i as i64 * ROW;
            // Room on the right for the value's text (e.g. "€2,937.00 · 33 units").
            let width = (WIDTH - LABEL - 190) * bar.value.max(0) / max;
            let label: String = bar.label.chars().take(28).collect();
            view! {
                <g>
                    <text x=0 y=y + 16 class="label">{label}</text>
                    <rect x=LABEL y=y + 4 width=width height=ROW - 8 class="bar-1" />
                    <text x=LABEL + width + 6 y=y + 16 class="label">{bar.text}</text>
                </g>
            }
        })
        .collect_view();
    view! {
        <svg
            class="chart"
            data-testid=id
            viewBox=format!("0 0 {WIDTH} {height}")
            role="img"
            aria-labelledby=format!("{id}-title {id}-desc")
        >
            <title id=format!("{id}-title")>{title}</title>
            <desc id=format!("{id}-desc")>{description}</desc>
            {rows}
        </svg>
    }
}
