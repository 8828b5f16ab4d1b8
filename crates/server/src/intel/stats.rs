//! Statistics per province, unit, category and month, as JSON rows or CSV (RFC 4180).
//!
//! Flagged and confirmed counts come from the store (one grouped query; provinces and units are
//! rolled up here from the posts' full region codes). Networks come from the in-memory index.
//! Cases, suspects, takedowns and public reports come from the workflow tables; the median time
//! to takedown is `null` where no takedown was complied with (a zero would be a false claim).

use crate::AppState;
use crate::auth::{Authed, ReadQueue};
use crate::error::{ApiError, ApiResult};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use patroli_core::Category;
use patroli_core::region::Regions;
use patroli_store::{StatsFilter, StatsGroup, WorkflowCount};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use time::OffsetDateTime;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum By {
    Province,
    Unit,
    Category,
    Month,
}

impl By {
    pub fn parse(s: &str) -> Option<By> {
        Some(match s {
            "province" => By::Province,
            "unit" => By::Unit,
            "category" => By::Category,
            "month" => By::Month,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            By::Province => "province",
            By::Unit => "unit",
            By::Category => "category",
            By::Month => "month",
        }
    }
}

/// One row. Which of `region_*`, `unit_*`, `category`, `month` are set depends on `by`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatsRow {
    /// 1 = most flagged posts (provinces and units only).
    pub rank: Option<u32>,
    /// Official code, e.g. "65" (by province; by unit: the unit's region, `null` = national).
    pub region_code: Option<String>,
    pub region_name: Option<String>,
    pub unit_id: Option<String>,
    pub unit_name: Option<String>,
    pub category: Option<Category>,
    /// `YYYY-MM`, UTC.
    pub month: Option<String>,
    pub posts_flagged: i64,
    pub confirmed: i64,
    /// Networks (two or more linked accounts) with a flagged post in the group; `null` by month.
    pub networks: Option<i64>,
    pub cases_opened: Option<i64>,
    pub cases_closed: Option<i64>,
    pub suspects: Option<i64>,
    pub takedowns_requested: Option<i64>,
    pub takedowns_complied: Option<i64>,
    pub median_hours_to_takedown: Option<f64>,
    pub public_reports_received: Option<i64>,
    pub public_reports_acted: Option<i64>,
}

impl StatsRow {
    fn new(posts_flagged: i64, confirmed: i64) -> Self {
        StatsRow {
            rank: None,
            region_code: None,
            region_name: None,
            unit_id: None,
            unit_name: None,
            category: None,
            month: None,
            posts_flagged,
            confirmed,
            networks: None,
            cases_opened: None,
            cases_closed: None,
            suspects: None,
            takedowns_requested: None,
            takedowns_complied: None,
            median_hours_to_takedown: None,
            public_reports_received: None,
            public_reports_acted: None,
        }
    }
}

#[derive(Debug, Default, Deserialize, Clone)]
pub struct StatsParams {
    pub by: Option<String>,
    pub category: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    /// `csv` or `json`; overrides `Accept` (export links cannot set headers).
    pub format: Option<String>,
    /// Official region code (`"65"`, `"65.71"`): only that region and what lies inside it.
    pub region: Option<String>,
}

/// `2026-01-31` (start of that day, UTC) or RFC 3339.
fn parse_time(name: &str, s: &str) -> ApiResult<OffsetDateTime> {
    let s = s.trim();
    if let Ok(t) = OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339) {
        return Ok(t);
    }
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(s, &fmt)
        .map(|d| d.midnight().assume_utc())
        .map_err(|_| ApiError::bad_param(name, "a date YYYY-MM-DD or an RFC 3339 time"))
}

fn nonempty(s: &Option<String>) -> Option<&str> {
    s.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// Validated parameters.
pub fn parse_params(p: &StatsParams, scope: Option<&str>) -> ApiResult<(By, StatsFilter)> {
    let by = match nonempty(&p.by) {
        None => By::Province,
        Some(b) => By::parse(b)
            .ok_or_else(|| ApiError::bad_param("by", "one of province, unit, category, month"))?,
    };
    let category = nonempty(&p.category)
        .map(|c| c.parse::<Category>())
        .transpose()
        .map_err(|e| ApiError::bad_param("category", e))?;
    let from = nonempty(&p.from)
        .map(|s| parse_time("from", s))
        .transpose()?;
    let to = nonempty(&p.to).map(|s| parse_time("to", s)).transpose()?;
    let region = nonempty(&p.region)
        .map(|r| {
            Regions::builtin()
                .get(r)
                .map(|r| r.code.clone())
                .ok_or_else(|| {
                    ApiError::bad_param(
                        "region",
                        "an official region code: a province (\"65\") or a regency/city (\"65.71\")",
                    )
                })
        })
        .transpose()?;
    Ok((
        by,
        StatsFilter {
            category,
            from,
            to,
            scope_prefix: narrowest(scope, region.as_deref())?.map(str::to_string),
        },
    ))
}

/// The narrower of the caller's scope and the asked `region`: the rows are limited to both.
/// A region beside the scope (neither inside the other) is refused rather than answered with
/// zeros, which would look like a real count.
fn narrowest<'a>(scope: Option<&'a str>, region: Option<&'a str>) -> ApiResult<Option<&'a str>> {
    use crate::auth::in_scope;
    Ok(match (scope, region) {
        (s, None) => s,
        (None, r) => r,
        (Some(s), Some(r)) if in_scope(Some(s), Some(r)) => Some(r),
        (Some(s), Some(r)) if in_scope(Some(r), Some(s)) => Some(s),
        (Some(_), Some(_)) => {
            return Err(ApiError::bad_param("region", "outside your region scope"));
        }
    })
}

/// Whether a network placed in `province` lies in, or contains, the region `prefix`.
fn overlaps(prefix: Option<&str>, province: &str) -> bool {
    crate::auth::in_scope(prefix, Some(province)) || crate::auth::in_scope(Some(province), prefix)
}

/// Counts of a region and everything inside it, from counts per full region code.
fn within(counts: &BTreeMap<String, (i64, i64)>, code: Option<&str>) -> (i64, i64) {
    counts
        .iter()
        .filter(|(k, _)| crate::auth::in_scope(code, Some(k)))
        .fold((0, 0), |a, (_, v)| (a.0 + v.0, a.1 + v.1))
}

/// Workflow counts of the groups `pick` selects, summed; durations pooled for the median.
fn workflow_sum<'a>(counts: impl Iterator<Item = &'a WorkflowCount>) -> WorkflowCount {
    let mut sum = WorkflowCount::default();
    for c in counts {
        sum.cases_opened += c.cases_opened;
        sum.cases_closed += c.cases_closed;
        sum.suspects += c.suspects;
        sum.takedowns_requested += c.takedowns_requested;
        sum.takedowns_complied += c.takedowns_complied;
        sum.takedown_hours.extend_from_slice(&c.takedown_hours);
        sum.public_reports_received += c.public_reports_received;
        sum.public_reports_acted += c.public_reports_acted;
    }
    sum
}

fn median(values: &mut [f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let n = values.len();
    let m = if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    };
    Some((m * 10.0).round() / 10.0)
}

impl StatsRow {
    fn set_workflow(&mut self, mut w: WorkflowCount) {
        self.cases_opened = Some(w.cases_opened);
        self.cases_closed = Some(w.cases_closed);
        self.suspects = Some(w.suspects);
        self.takedowns_requested = Some(w.takedowns_requested);
        self.takedowns_complied = Some(w.takedowns_complied);
        self.median_hours_to_takedown = median(&mut w.takedown_hours);
        self.public_reports_received = Some(w.public_reports_received);
        self.public_reports_acted = Some(w.public_reports_acted);
    }
}

fn rank(rows: &mut [StatsRow]) {
    rows.sort_by(|a, b| {
        b.posts_flagged
            .cmp(&a.posts_flagged)
            .then(b.confirmed.cmp(&a.confirmed))
            .then(a.region_code.cmp(&b.region_code))
            .then(a.unit_name.cmp(&b.unit_name))
    });
    for (i, r) in rows.iter_mut().enumerate() {
        r.rank = Some(i as u32 + 1);
    }
}

/// The rows for `by`. Provinces: all 38, ranked; units: every unit, ranked; categories: the
/// four categories; months: those with findings, in order.
pub async fn rows(state: &AppState, by: By, filter: &StatsFilter) -> ApiResult<Vec<StatsRow>> {
    let store = state.store();
    let group = match by {
        By::Province | By::Unit => StatsGroup::Region,
        By::Category => StatsGroup::Category,
        By::Month => StatsGroup::Month,
    };
    let counts = store.finding_counts(group, filter).await?;
    let workflow = store.workflow_counts(group, filter).await?;
    let workflow_within = |code: Option<&str>| {
        workflow_sum(workflow.iter().filter(|w| {
            w.key
                .as_deref()
                .is_some_and(|k| crate::auth::in_scope(code, Some(k)))
        }))
    };
    let workflow_at =
        |key: &str| workflow_sum(workflow.iter().filter(|w| w.key.as_deref() == Some(key)));
    let by_key: BTreeMap<String, (i64, i64)> = counts
        .into_iter()
        .filter_map(|c| Some((c.key?, (c.posts_flagged, c.confirmed))))
        .collect();
    // Networks only where the index can place them; the whole index is not loaded for months.
    let network_facts = match by {
        By::Month => Default::default(),
        _ => {
            state.intel().ensure_loaded(store).await?;
            state.intel().network_facts()
        }
    };
    let networks_in = |code: Option<&str>| -> i64 {
        network_facts
            .iter()
            .filter(|(provinces, _)| {
                provinces.iter().any(|p| {
                    crate::auth::in_scope(code, Some(p)) || crate::auth::in_scope(Some(p), code)
                })
            })
            .count() as i64
    };
    let regions = Regions::builtin();
    let mut out = Vec::new();
    match by {
        By::Province => {
            for p in regions.provinces() {
                if !crate::auth::in_scope(filter.scope_prefix.as_deref(), Some(&p.code))
                    && !crate::auth::in_scope(Some(&p.code), filter.scope_prefix.as_deref())
                {
                    continue;
                }
                let (flagged, confirmed) = within(&by_key, Some(&p.code));
                let mut row = StatsRow::new(flagged, confirmed);
                row.region_code = Some(p.code.clone());
                row.region_name = Some(p.name.clone());
                row.networks = Some(networks_in(Some(&p.code)));
                row.set_workflow(workflow_within(Some(&p.code)));
                out.push(row);
            }
            rank(&mut out);
        }
        By::Unit => {
            for u in store.list_units(None).await? {
                // A regional caller sees the units inside their region only.
                if filter.scope_prefix.is_some()
                    && !crate::auth::in_scope(
                        filter.scope_prefix.as_deref(),
                        u.region_code.as_deref(),
                    )
                {
                    continue;
                }
                let (flagged, confirmed) = within(&by_key, u.region_code.as_deref());
                let mut row = StatsRow::new(flagged, confirmed);
                row.unit_id = Some(u.id.to_string());
                row.unit_name = Some(u.name.clone());
                row.region_name = u
                    .region_code
                    .as_deref()
                    .and_then(|c| regions.get(c))
                    .map(|r| r.name.clone());
                row.region_code = u.region_code.clone();
                row.networks = Some(match &u.region_code {
                    Some(c) => networks_in(Some(c)),
                    None => network_facts.len() as i64,
                });
                row.set_workflow(workflow_within(u.region_code.as_deref()));
                out.push(row);
            }
            rank(&mut out);
        }
        By::Category => {
            for c in Category::ALL {
                let (flagged, confirmed) = by_key.get(c.id()).copied().unwrap_or_default();
                let mut row = StatsRow::new(flagged, confirmed);
                row.category = Some(c);
                // Networks are placed by province: under a scope or `region`, those with a
                // flagged post in (or around) it.
                let prefix = filter.scope_prefix.as_deref();
                row.networks = Some(
                    network_facts
                        .iter()
                        .filter(|(provinces, cats)| {
                            cats.contains(&c)
                                && (prefix.is_none()
                                    || provinces.iter().any(|p| overlaps(prefix, p)))
                        })
                        .count() as i64,
                );
                row.set_workflow(workflow_at(c.id()));
                out.push(row);
            }
        }
        By::Month => {
            // Months with findings or with workflow activity.
            let mut months: std::collections::BTreeSet<String> = by_key.keys().cloned().collect();
            months.extend(workflow.iter().filter_map(|w| w.key.clone()));
            for month in months {
                let (flagged, confirmed) = by_key.get(&month).copied().unwrap_or_default();
                let mut row = StatsRow::new(flagged, confirmed);
                row.set_workflow(workflow_at(&month));
                row.month = Some(month);
                out.push(row);
            }
        }
    }
    Ok(out)
}

/// The CSV columns, in order (also the JSON field names).
pub const CSV_COLUMNS: &[&str] = &[
    "rank",
    "region_code",
    "region_name",
    "unit_id",
    "unit_name",
    "category",
    "month",
    "posts_flagged",
    "confirmed",
    "networks",
    "cases_opened",
    "cases_closed",
    "suspects",
    "takedowns_requested",
    "takedowns_complied",
    "median_hours_to_takedown",
    "public_reports_received",
    "public_reports_acted",
];

/// One RFC 4180 field: quoted when it holds a comma, quote or line break.
fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// RFC 4180: header row, CRLF line ends, empty field for `null`.
pub fn to_csv(rows: &[StatsRow]) -> String {
    let mut out = CSV_COLUMNS.join(",");
    out.push_str("\r\n");
    for row in rows {
        let v = serde_json::to_value(row).unwrap_or_default();
        let fields: Vec<String> = CSV_COLUMNS
            .iter()
            .map(|c| match &v[*c] {
                serde_json::Value::Null => String::new(),
                serde_json::Value::String(s) => csv_field(s),
                other => csv_field(&other.to_string()),
            })
            .collect();
        out.push_str(&fields.join(","));
        out.push_str("\r\n");
    }
    out
}

fn wants_csv(headers: &HeaderMap, format: Option<&str>) -> bool {
    match format {
        Some(f) => f.eq_ignore_ascii_case("csv"),
        None => headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|a| a.to_ascii_lowercase().contains("text/csv")),
    }
}

/// `GET /api/v1/stats?by=province|unit|category|month[&region=&category=&from=&to=&format=csv|json]`
pub async fn api_stats(
    State(state): State<AppState>,
    who: Authed<ReadQueue>,
    headers: HeaderMap,
    Query(p): Query<StatsParams>,
) -> ApiResult<Response> {
    let (by, filter) = parse_params(&p, who.scope.as_deref())?;
    if let Some(f) = nonempty(&p.format)
        && !matches!(f, "csv" | "json")
    {
        return Err(ApiError::bad_param("format", "csv or json"));
    }
    let rows = rows(&state, by, &filter).await?;
    if wants_csv(&headers, nonempty(&p.format)) {
        let name = format!("attachment; filename=\"patroli-stats-{}.csv\"", by.as_str());
        return Ok((
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
                (header::CONTENT_DISPOSITION, name),
            ],
            to_csv(&rows),
        )
            .into_response());
    }
    Ok(axum::Json(rows).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes_only_what_needs_it() {
        let mut row = StatsRow::new(7, 2);
        row.region_code = Some("65".into());
        row.region_name = Some("Kalimantan \"Utara\", test".into());
        let csv = to_csv(&[row]);
        let mut lines = csv.split("\r\n");
        assert_eq!(lines.next().unwrap(), CSV_COLUMNS.join(","));
        assert_eq!(
            lines.next().unwrap(),
            ",65,\"Kalimantan \"\"Utara\"\", test\",,,,,7,2,,,,,,,,,"
        );
        assert_eq!(lines.next(), Some(""));
    }

    #[test]
    fn rollup_counts_a_region_and_its_children_only() {
        let counts: BTreeMap<String, (i64, i64)> = [
            ("65".to_string(), (1, 0)),
            ("65.71".to_string(), (2, 1)),
            ("64.01".to_string(), (4, 4)),
        ]
        .into_iter()
        .collect();
        assert_eq!(within(&counts, Some("65")), (3, 1));
        assert_eq!(within(&counts, Some("64")), (4, 4));
        assert_eq!(within(&counts, None), (7, 5));
    }

    #[test]
    fn region_narrows_the_scope_and_never_widens_it() {
        assert_eq!(narrowest(None, None).unwrap(), None);
        assert_eq!(narrowest(None, Some("65")).unwrap(), Some("65"));
        assert_eq!(narrowest(Some("65"), Some("65.71")).unwrap(), Some("65.71"));
        // Asking for the whole province from inside it keeps the caller's own region.
        assert_eq!(narrowest(Some("65.71"), Some("65")).unwrap(), Some("65.71"));
        let e = narrowest(Some("65"), Some("35")).unwrap_err();
        assert!(e.message.contains("region"), "{}", e.message);
        // "6" is not a prefix of "65" as a region: codes nest by dots only.
        assert!(narrowest(Some("6"), Some("65")).is_err());
    }

    #[test]
    fn region_must_be_an_official_code() {
        let p = |r: &str| StatsParams {
            region: Some(r.into()),
            ..StatsParams::default()
        };
        assert_eq!(
            parse_params(&p("65"), None)
                .unwrap()
                .1
                .scope_prefix
                .as_deref(),
            Some("65")
        );
        assert_eq!(
            parse_params(&p(" 65.71 "), None)
                .unwrap()
                .1
                .scope_prefix
                .as_deref(),
            Some("65.71")
        );
        for bad in ["99", "Kaltara", "65.", "'; DROP"] {
            let e = parse_params(&p(bad), None).unwrap_err();
            assert!(e.message.contains("`region`"), "{bad}: {}", e.message);
        }
    }
}
