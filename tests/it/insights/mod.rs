//! Program insights: the numbers behind every chart against hand-counted
//! fixtures, the CSVs against the tables, who may see them, and the pages
//! in a browser.

mod applications;
mod business_time;
mod deadlines;
mod journey;
mod licenses;
mod page;
mod partners;
mod support;
mod weekly;
