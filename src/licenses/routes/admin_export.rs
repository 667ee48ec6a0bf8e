//! `GET /admin/licenses.csv`: the licenses in their term of the staff list
//! (active, or suspended with their partner: the `status` column), with the
//! same filters, as a spreadsheet-safe CSV file.

use axum::{
    extract::{Query, State},
    response::Response,
};

use super::admin_list::{Filters, active, parse};
use crate::{
    accounts::guard::StaffUser, dates::iso, error::AppResult, state::AppState, views::FormErrors,
};

const MAX_EXPORT_ROWS: i64 = 100_000;

pub async fn export(
    State(state): State<AppState>,
    StaffUser(_staff): StaffUser,
    Query(filters): Query<Filters>,
) -> AppResult<Response> {
    let now = state.clock.now();
    let parsed = parse(&filters, &mut FormErrors::default());
    let mut conn = state.pool.acquire().await?;
    let rows = active(&mut conn, now, &parsed, MAX_EXPORT_ROWS, 0).await?;
    let mut csv = String::from(
        "license_id,partner,product,users,purposes,license_key,issued_at,expires_at,days_left,status\r\n",
    );
    for r in rows {
        let fields = [
            r.id.to_string(),
            r.company,
            r.product.to_owned(),
            r.users.to_string(),
            r.purposes,
            r.license_key,
            iso(r.issued_at),
            iso(r.expires_at),
            r.days_left.to_string(),
            r.status.to_lowercase(),
        ];
        csv.push_str(&crate::csv::record(&fields));
    }
    let filename = format!("nfr-licenses-{}.csv", now.format("%Y-%m-%d"));
    Ok(crate::csv::download(&filename, csv))
}
