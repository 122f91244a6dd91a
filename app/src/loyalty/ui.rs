//! Loyalty pages: the account's points block, `/leaderboard`, and the owner's
//! `/admin/loyalty`.

use super::api::{AdjustPoints, CreateBadge, CreateChallenge, OrderAction, SetLeaderboardVisibility};
use super::domain::{progress, Goal, Period};
use crate::layout::chart::{Bar, Bars, DailyBars, Series};
use crate::layout::ErrorView;
use crate::shared::{format_time, format_utc_date, Money};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::use_query_map;

/// The account page's referral link, with what it brought so far. The link is a read-only
/// field, so it can be selected and copied without JavaScript.
#[component]
pub fn ReferralBlock() -> impl IntoView {
    let referral = Resource::new(|| (), |_| super::api::get_my_referral());
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                match referral.await {
                    Ok(Some(referral)) => {
                        let points = format!(
                            "{} friends registered through your link, {} made a first order.",
                            referral.registrations,
                            referral.first_orders,
                        );
                        view! {
                            <section class="referral" id="referral" data-testid="referral">
                                <h2>"Invite a friend"</h2>
                                <p>
                                    "Share your link: when a friend registers through it and their first paid order ships, you both earn points."
                                </p>
                                <label for="referral-link">"Your link"</label>
                                <input
                                    id="referral-link"
                                    data-testid="referral-link"
                                    readonly
                                    value=referral.link.clone()
                                    data-code=referral.code.clone()
                                />
                                <p class="muted" data-testid="referral-counts">
                                    {format!("{} clicks. ", referral.clicks)}
                                    {points}
                                </p>
                            </section>
                        }
                            .into_any()
                    }
                    Ok(None) => ().into_any(),
                    Err(error) => view! { <ErrorView error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// An accessible progress bar (`role=progressbar` with its values). Drawn in SVG: the
/// Content-Security-Policy allows no inline `style` attribute.
#[component]
fn ProgressBar(value: i64, max: i64, label: String) -> impl IntoView {
    let (value, max, percent) = progress(value, max);
    view! {
        <svg
            class="progress"
            data-testid="progress"
            role="progressbar"
            aria-label=label
            aria-valuemin="0"
            aria-valuemax=max
            aria-valuenow=value
            viewBox="0 0 100 6"
            preserveAspectRatio="none"
        >
            <rect class="progress-track" x="0" y="0" width="100" height="6" rx="3" />
            <rect class="progress-fill" x="0" y="0" width=percent height="6" rx="3" />
        </svg>
    }
}

/// The account page's points: balance, pending, tier and the way to the next, badges,
/// challenges, recent ledger rows and the leaderboard setting.
#[component]
pub fn PointsBlock() -> impl IntoView {
    let query = use_query_map();
    let page = Resource::new(move || query.read().to_query_string(), |_| super::api::get_points_page());
    let visibility = ServerAction::<SetLeaderboardVisibility>::new();
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                match page.await {
                    Ok(Some(points)) => {
                        let next = points.tier.next();
                        view! {
                            <section class="points" id="points">
                                <h2>"Your points"</h2>
                                <p class="points-summary">
                                    <strong data-testid="points-balance" data-points=points.balance>
                                        {format!("{} points", points.balance)}
                                    </strong>
                                    {(points.pending > 0)
                                        .then(|| {
                                            view! {
                                                <span class="muted" data-testid="points-pending">
                                                    {format!(" + {} pending until your orders ship", points.pending)}
                                                </span>
                                            }
                                        })}
                                </p>
                                <p>
                                    <span class="tier" data-testid="tier" data-tier=points.tier.key()>
                                        {format!("{} member", points.tier.name())}
                                    </span>
                                    {format!(
                                        " · earns ×{}.{:02}",
                                        points.tier.multiplier_bp() / 10_000,
                                        points.tier.multiplier_bp() % 10_000 / 100,
                                    )}
                                </p>
                                {next
                                    .map(|next| {
                                        let label = format!(
                                            "{} of {} points earned in 12 months towards {}",
                                            points.earned_12_months,
                                            next.threshold(),
                                            next.name(),
                                        );
                                        view! {
                                            <p class="muted">{label.clone()}</p>
                                            <ProgressBar value=points.earned_12_months max=next.threshold() label />
                                        }
                                    })}
                                <h3>"Badges"</h3>
                                <ul class="badges">
                                    {points
                                        .badges
                                        .into_iter()
                                        .map(|badge| {
                                            let earned = badge.awarded_at.is_some();
                                            let title = badge.description.clone();
                                            view! {
                                                <li
                                                    class="badge"
                                                    class:earned=earned
                                                    data-testid=if earned { "badge" } else { "badge-locked" }
                                                    data-badge=badge.key.clone()
                                                    title=title
                                                >
                                                    <strong>{badge.name}</strong>
                                                    " "
                                                    <span class="muted">
                                                        {match badge.awarded_at {
                                                            Some(at) => format!("earned {}", format_utc_date(at)),
                                                            None => badge.description,
                                                        }}
                                                    </span>
                                                </li>
                                            }
                                        })
                                        .collect_view()}
                                </ul>
                                <h3>"Challenges"</h3>
                                {if points.challenges.is_empty() {
                                    view! { <p class="empty">"No challenge is running right now."</p> }.into_any()
                                } else {
                                    view! {
                                        <ul class="challenges">
                                            {points
                                                .challenges
                                                .into_iter()
                                                .map(|challenge| {
                                                    let label = format!(
                                                        "{}: {} of {} {}",
                                                        challenge.title,
                                                        challenge.progress,
                                                        challenge.target,
                                                        challenge.goal.label(),
                                                    );
                                                    view! {
                                                        <li
                                                            data-testid="challenge"
                                                            data-completed=challenge.completed.to_string()
                                                        >
                                                            <strong>{challenge.title.clone()}</strong>
                                                            {format!(
                                                                " — {} points, until {}{}",
                                                                challenge.reward_points,
                                                                format_utc_date(challenge.ends_at - 1),
                                                                if challenge.completed { " · completed" } else { "" },
                                                            )}
                                                            <ProgressBar value=challenge.progress max=challenge.target label />
                                                        </li>
                                                    }
                                                })
                                                .collect_view()}
                                        </ul>
                                    }
                                        .into_any()
                                }}
                                <h3>"Points history"</h3>
                                <table class="ledger">
                                    <caption class="visually-hidden">"Recent points changes"</caption>
                                    <thead>
                                        <tr>
                                            <th scope="col">"When"</th>
                                            <th scope="col">"What"</th>
                                            <th scope="col">"Points"</th>
                                        </tr>
                                    </thead>
                                    <tbody>
                                        {points
                                            .ledger
                                            .into_iter()
                                            .map(|row| {
                                                let pending = row.bucket == "pending";
                                                view! {
                                                    <tr data-testid="ledger-row" class:pending=pending>
                                                        <td>{format_time(row.created_at)}</td>
                                                        <td>{row.reason}{pending.then_some(" (pending)")}</td>
                                                        <td>{format!("{:+}", row.delta)}</td>
                                                    </tr>
                                                }
                                            })
                                            .collect_view()}
                                    </tbody>
                                </table>
                                <ActionForm action=visibility attr:class="inline-form">
                                    <label class="checkbox" for="leaderboard-hide">
                                        <input
                                            id="leaderboard-hide"
                                            type="checkbox"
                                            name="hide"
                                            value="on"
                                            checked=points.leaderboard_opt_out
                                        />
                                        "Leave me out of the leaderboard"
                                    </label>
                                    <button type="submit" data-testid="leaderboard-save">"Save"</button>
                                </ActionForm>
                                <p>
                                    <A href="/leaderboard">"See the leaderboard"</A>
                                </p>
                            </section>
                        }
                            .into_any()
                    }
                    Ok(None) => ().into_any(),
                    Err(error) => view! { <ErrorView error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// `/leaderboard?period=week|month|all`: the top shoppers by points earned.
#[component]
pub fn LeaderboardPage() -> impl IntoView {
    let query = use_query_map();
    let board = Resource::new(move || query.read().get("period"), super::api::get_leaderboard);
    view! {
        <Title text="Leaderboard — Mercato" />
        <section class="leaderboard">
            <h1>"Leaderboard"</h1>
            <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match board.await {
                        Ok(board) => {
                            view! {
                                <nav class="tabs" aria-label="Period">
                                    {[(Period::Week, "This week"), (Period::Month, "This month"), (Period::All, "All time")]
                                        .into_iter()
                                        .map(|(period, label)| {
                                            let current = (period == board.period).then_some("page");
                                            view! {
                                                <a href=format!("/leaderboard?period={}", period.key()) aria-current=current>
                                                    {label}
                                                </a>
                                            }
                                        })
                                        .collect_view()}
                                </nav>
                                {if board.entries.is_empty() {
                                    view! { <p class="empty">"Nobody has earned points in this period yet."</p> }.into_any()
                                } else {
                                    view! {
                                        <ol class="leaderboard-list">
                                            {board
                                                .entries
                                                .into_iter()
                                                .map(|entry| {
                                                    view! {
                                                        <li data-testid="leaderboard-entry" class:you=entry.you value=entry.rank>
                                                            <span class="name">{entry.display_name}</span>
                                                            {entry.you.then_some(" (you)")}
                                                            <span class="points">{format!("{} points", entry.points)}</span>
                                                        </li>
                                                    }
                                                })
                                                .collect_view()}
                                        </ol>
                                    }
                                        .into_any()
                                }}
                                <p class="muted">"Display names only. You can leave the leaderboard on your account page."</p>
                            }
                                .into_any()
                        }
                        Err(error) => view! { <ErrorView error /> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

/// `/admin/loyalty`: points over time, adjustments, badges, challenges and orders.
#[component]
pub fn AdminLoyaltyPage() -> impl IntoView {
    crate::layout::admin_page(
        "Loyalty — Mercato admin",
        "Loyalty",
        "admin-plans admin-loyalty",
        "/admin/loyalty",
        super::api::get_loyalty_admin,
        |admin| view! { <LoyaltyAdminView admin /> }.into_any(),
    )
}

#[component]
fn LoyaltyAdminView(admin: super::api::LoyaltyAdmin) -> impl IntoView {
    let adjust = ServerAction::<AdjustPoints>::new();
    let badge = ServerAction::<CreateBadge>::new();
    let challenge = ServerAction::<CreateChallenge>::new();
    let order = ServerAction::<OrderAction>::new();
    let goal_options =
        || Goal::ALL.into_iter().map(|goal| view! { <option value=goal.key()>{goal.label()}</option> }).collect_view();
    let (issued, redeemed): (i64, i64) =
        admin.daily.iter().fold((0, 0), |(i, r), (_, issued, redeemed, _, _)| (i + issued, r + redeemed));
    view! {
        <crate::layout::AdminMessage />
        <section class="card">
            <h2>"Points over the last 30 days"</h2>
            <p class="kpi">
                "Outstanding: " <strong data-testid="points-outstanding">{admin.outstanding}</strong> " points · issued "
                {issued} " · redeemed " {redeemed}
            </p>
            <DailyBars
                id="points-chart"
                title="Points issued and redeemed per day, and outstanding"
                empty="No points activity yet."
                height=160
                days=admin.daily.iter().map(|d| d.0).collect()
                bars=vec![
                    Series::new("issued", admin.daily.iter().map(|d| d.1).collect()),
                    Series::new("redeemed", admin.daily.iter().map(|d| d.2).collect()),
                ]
                notes=vec![Series::new("expired", admin.daily.iter().map(|d| d.3).collect())]
                line=Series::new("outstanding", admin.daily.iter().map(|d| d.4).collect())
            />
        </section>
        <section class="card" data-testid="referral-funnel">
            <h2>"Referrals"</h2>
            <p class="kpi">
                "Clicks " <strong data-testid="funnel-clicks">{admin.referrals.clicks}</strong> " · registrations "
                <strong data-testid="funnel-registrations">{admin.referrals.registrations}</strong> " · first orders "
                <strong data-testid="funnel-first-orders">{admin.referrals.first_orders}</strong>
            </p>
            <Bars
                id="referral-chart"
                title="Referral funnel: link clicks, registrations, first paid orders"
                empty="No referrals yet."
                bars=vec![
                    Bar {
                        label: "Clicks".into(),
                        value: admin.referrals.clicks,
                        text: admin.referrals.clicks.to_string(),
                    },
                    Bar {
                        label: "Registrations".into(),
                        value: admin.referrals.registrations,
                        text: admin.referrals.registrations.to_string(),
                    },
                    Bar {
                        label: "First orders".into(),
                        value: admin.referrals.first_orders,
                        text: admin.referrals.first_orders.to_string(),
                    },
                ]
            />
        </section>
        <section class="card">
            <h2>"Adjust a balance"</h2>
            <ActionForm action=adjust attr:class="plan-form">
                <label for="adjust-email">"Customer e-mail"</label>
                <input id="adjust-email" name="email" type="email" required />
                <label for="adjust-delta">"Points (negative to remove)"</label>
                <input id="adjust-delta" name="delta" inputmode="numeric" required />
                <label for="adjust-reason">"Reason (kept in the ledger)"</label>
                <input id="adjust-reason" name="reason" maxlength="200" required />
                <button type="submit" data-testid="adjust-submit">"Adjust"</button>
            </ActionForm>
        </section>
        <section class="card" id="orders">
            <h2>"Orders"</h2>
            <p class="muted">"Points earned on an order become spendable when it is fulfilled."</p>
            <table>
                <thead>
                    <tr>
                        <th scope="col">"Order"</th>
                        <th scope="col">"Customer"</th>
                        <th scope="col">"Total"</th>
                        <th scope="col">"Points used"</th>
                        <th scope="col">"Status"</th>
                        <th scope="col">"Action"</th>
                    </tr>
                </thead>
                <tbody>
                    {admin
                        .orders
                        .into_iter()
                        .map(|(o, email)| {
                            let actions: &[(&str, &str)] = match o.status.as_str() {
                                "placed" => &[("fulfil", "Mark fulfilled"), ("cancel", "Cancel")],
                                "fulfilled" => &[("refund", "Refund")],
                                _ => &[],
                            };
                            let id = o.id;
                            view! {
                                <tr data-testid="admin-order" data-order=id data-status=o.status.clone()>
                                    <td>{format!("#{id}")}</td>
                                    <td>{email}</td>
                                    <td>{Money::from_cents(o.total_cents).to_string()}</td>
                                    <td>{o.points_redeemed}</td>
                                    <td>{o.status.clone()}</td>
                                    <td>
                                        {actions
                                            .iter()
                                            .map(|(action, label)| {
                                                view! {
                                                    <ActionForm action=order attr:class="inline-form">
                                                        <input type="hidden" name="order_id" value=id />
                                                        <input type="hidden" name="action" value=*action />
                                                        <button type="submit" data-testid=format!("order-{action}")>{*label}</button>
                                                    </ActionForm>
                                                }
                                            })
                                            .collect_view()}
                                    </td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
        </section>
        <section class="card">
            <h2>"Badges"</h2>
            <ul>
                {admin
                    .badges
                    .into_iter()
                    .map(|b| {
                        view! {
                            <li>
                                <strong>{b.name}</strong>
                                {format!(" ({}) — {} {}: {}", b.key, b.threshold, b.goal.label(), b.description)}
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
            <ActionForm action=badge attr:class="plan-form">
                <label for="badge-key">"Key"</label>
                <input id="badge-key" name="key" pattern="[a-z0-9_]{2,40}" required />
                <label for="badge-name">"Name"</label>
                <input id="badge-name" name="name" maxlength="60" required />
                <label for="badge-description">"Description"</label>
                <input id="badge-description" name="description" maxlength="200" />
                <label for="badge-goal">"Counts"</label>
                <select id="badge-goal" name="goal">{goal_options()}</select>
                <label for="badge-threshold">"Awarded at"</label>
                <input id="badge-threshold" name="threshold" inputmode="numeric" required />
                <button type="submit">"Create badge"</button>
            </ActionForm>
        </section>
        <section class="card">
            <h2>"Challenges"</h2>
            <ul>
                {admin
                    .challenges
                    .into_iter()
                    .map(|c| {
                        view! {
                            <li data-testid="admin-challenge">
                                <strong>{c.title}</strong>
                                {format!(
                                    " — {} {} between {} and {}, {} points",
                                    c.target,
                                    c.goal.label(),
                                    format_utc_date(c.starts_at),
                                    format_utc_date(c.ends_at - 1),
                                    c.reward_points,
                                )}
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
            <ActionForm action=challenge attr:class="plan-form">
                <label for="challenge-title">"Title"</label>
                <input id="challenge-title" name="title" maxlength="80" required />
                <label for="challenge-goal">"Counts"</label>
                <select id="challenge-goal" name="goal">{goal_options()}</select>
                <label for="challenge-target">"Target"</label>
                <input id="challenge-target" name="target" inputmode="numeric" required />
                <label for="challenge-reward">"Reward (points)"</label>
                <input id="challenge-reward" name="reward_points" inputmode="numeric" required />
                <label for="challenge-starts">"First day"</label>
                <input id="challenge-starts" name="starts" type="date" required />
                <label for="challenge-ends">"Last day"</label>
                <input id="challenge-ends" name="ends" type="date" required />
                <button type="submit" data-testid="challenge-submit">"Create challenge"</button>
            </ActionForm>
        </section>
    }
}

/// The checkout's points control: how many to use (up to the balance and half the order).
#[component]
pub fn RedeemPoints(balance: i64, max_points: i64, points_per_euro: i64) -> impl IntoView {
    let usable = balance.min(max_points).max(0);
    view! {
        <div class="redeem-points">
            <label for="redeem-points">"Pay with points"</label>
            <input
                id="redeem-points"
                name="redeem_points"
                type="number"
                min="0"
                max=usable
                value="0"
                data-testid="redeem-points"
                aria-describedby="redeem-points-hint"
            />
            <p id="redeem-points-hint" class="hint">
                {format!("You have {balance} points; up to {usable} can be used here ({points_per_euro} points = €1.00).")}
            </p>
        </div>
    }
}
