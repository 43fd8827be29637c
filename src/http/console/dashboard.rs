//! The dashboard: the counts, and a chart of logins per day per service over
//! the last 30 days, drawn as server-side SVG.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use serde::Deserialize;

use super::error_page::{Section, error_page};
use super::{Console, render};
use crate::http::problem::ApiError;
use crate::http::state::AppState;

#[derive(Deserialize)]
pub struct Notice {
    notice: Option<String>,
}

/// One bar segment of the chart.
struct Bar {
    x: i64,
    y: i64,
    w: i64,
    h: i64,
    series: usize,
    title: String,
}

struct LegendItem {
    x: i64,
    series: usize,
    name: String,
}

#[derive(Template)]
#[template(path = "admin/chart.svg")]
struct Chart {
    width: i64,
    height: i64,
    left: i64,
    top: i64,
    base: i64,
    max: i64,
    description: String,
    bars: Vec<Bar>,
    ticks: Vec<(i64, String)>,
    legend: Vec<LegendItem>,
}

#[derive(Template)]
#[template(path = "admin/dashboard.html")]
struct Dashboard<'a> {
    section: &'a str,
    admin: &'a str,
    csrf: &'a str,
    notice: Option<String>,
    pending: i64,
    active: i64,
    inactive: i64,
    services: i64,
    logins_today: i64,
    logins_month: i64,
    active_sessions: i64,
    chart: String,
}

/// Series colours are CSS classes (`series-0` … `series-7`), so the page's
/// style sheet decides them and the CSP needs no inline style.
const SERIES: usize = 8;

fn chart(days: &[String], series: &[(String, Vec<i64>)]) -> Chart {
    let (width, height, left, top) = (760_i64, 260_i64, 36_i64, 10_i64);
    let base = height - 48;
    let totals: Vec<i64> = (0..days.len())
        .map(|d| series.iter().filter_map(|(_, counts)| counts.get(d)).sum())
        .collect();
    let max = totals.iter().copied().max().unwrap_or(0).max(1);
    let slot = (width - left) / i64::try_from(days.len().max(1)).unwrap_or(30);
    let mut bars = Vec::new();
    for (d, day) in days.iter().enumerate() {
        let x = left + i64::try_from(d).unwrap_or(0) * slot + 2;
        let mut y = base;
        for (s, (name, counts)) in series.iter().enumerate() {
            let n = counts.get(d).copied().unwrap_or(0);
            if n == 0 {
                continue;
            }
            let h = (n * (base - top) / max).max(1);
            y -= h;
            bars.push(Bar {
                x,
                y,
                w: slot - 4,
                h,
                series: s % SERIES,
                title: format!("{day}: {n} logins to {name}"),
            });
        }
    }
    let ticks = days
        .iter()
        .enumerate()
        .filter(|(d, _)| d % 5 == 0)
        .map(|(d, day)| {
            let x = left + i64::try_from(d).unwrap_or(0) * slot + slot / 2;
            // "2026-11-25" is labelled "11-25".
            (x, day.get(5..).unwrap_or(day).to_owned())
        })
        .collect();
    let legend = series
        .iter()
        .enumerate()
        .map(|(s, (name, _))| LegendItem {
            x: left + i64::try_from(s).unwrap_or(0) * 150,
            series: s % SERIES,
            name: name.clone(),
        })
        .collect();
    let total: i64 = totals.iter().sum();
    Chart {
        width,
        height,
        left,
        top,
        base,
        max,
        description: format!(
            "Successful logins per day from {} to {}, stacked by service; {total} in all.",
            days.first().map_or("", String::as_str),
            days.last().map_or("", String::as_str)
        ),
        bars,
        ticks,
        legend,
    }
}

pub async fn page(
    State(state): State<AppState>,
    console: Console,
    Query(q): Query<Notice>,
) -> Response {
    let stats = match state.core.stats(None).await {
        Ok(s) => s,
        Err(e) => return error_page(&console, Section::Dashboard, e),
    };
    let daily = match state.core.daily_logins(30).await {
        Ok(d) => d,
        Err(e) => return error_page(&console, Section::Dashboard, e),
    };
    let svg = match chart(&daily.days, &daily.series).render() {
        Ok(svg) => svg,
        Err(e) => {
            return error_page(
                &console,
                Section::Dashboard,
                ApiError::Internal(e.to_string()),
            );
        }
    };
    let c = &stats.counts;
    render(&Dashboard {
        section: Section::Dashboard.name(),
        admin: &console.admin.username,
        csrf: &console.csrf,
        notice: q.notice,
        pending: c.users_pending,
        active: c.users_active,
        inactive: c.users_inactive,
        services: c.services_active + c.services_inactive,
        logins_today: c.logins_today,
        logins_month: c.logins_this_month,
        active_sessions: stats.by_service.iter().map(|s| s.active_sessions).sum(),
        chart: svg,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_stack_and_scale_to_the_busiest_day() {
        let days: Vec<String> = (1..=3).map(|d| format!("2026-11-0{d}")).collect();
        let series = vec![
            ("ServiceB".to_owned(), vec![2, 0, 4]),
            ("AppC".to_owned(), vec![2, 1, 0]),
        ];
        let c = chart(&days, &series);
        assert_eq!(c.max, 4);
        assert_eq!(c.bars.len(), 4, "zero counts draw nothing");
        let full = c.base - c.top;
        assert_eq!(
            c.bars[0].h + c.bars[1].h,
            full,
            "day 1 totals 4 = full height"
        );
        assert_eq!(c.bars[1].y + c.bars[1].h, c.bars[0].y, "stacked");
        let svg = c.render().unwrap();
        assert!(svg.contains("<title>2026-11-03: 4 logins to ServiceB</title>"));
    }

    #[test]
    fn names_are_escaped_in_the_svg() {
        let days = vec!["2026-11-01".to_owned()];
        let series = vec![("<b>x</b>".to_owned(), vec![1])];
        let svg = chart(&days, &series).render().unwrap();
        assert!(!svg.contains("<b>x</b>"));
    }
}
