"""Runs: every run in the store — find, inspect, compare, export, delete (one or many)."""
import pandas as pd
import streamlit as st

from dashboard import jobs
from dashboard.components.common import explain, guard
from dashboard.components.figures import ALIGN, align_runs, line_chart
from dashboard.components.live import live
from dashboard.components.run_view import draw_run

SORTS = {"newest first": ("id", False), "oldest first": ("id", True), "name": ("name", True),
         "status": ("status", True), "longest first": ("seconds", False)}

st.title("Runs")
explain("runs", expanded=False, title="About runs")


with guard("reading the run store"):
    store = jobs.store()
    runs = store.list_runs()
    if not runs:
        st.info("No runs yet. Start one from a page on the left, or from the terminal: "
                "`python -m engine run sparse --method magnitude --sparsity 0.9`.")
        st.stop()

    f1, f2, f3, f4 = st.columns([3, 2, 2, 2])
    text = f1.text_input("Filter", key="runs-filter", placeholder="name, kind or error contains…")
    kinds = f2.multiselect("Kind", sorted({r.kind for r in runs}), key="runs-kinds", placeholder="all kinds")
    statuses = f3.multiselect("Status", sorted({r.status for r in runs}), key="runs-status",
                              placeholder="all statuses")
    order = f4.selectbox("Sort", list(SORTS), key="runs-sort")

    table = pd.DataFrame([{
        "id": r.id, "kind": r.kind, "name": r.name or "", "status": r.status, "seed": r.seed,
        "started": pd.to_datetime(r.started_at, unit="s") if r.started_at else None,
        "seconds": round(r.seconds, 1) if r.seconds is not None else None,
        "progress": r.fraction,
        "error": (r.error or "")[:80],
    } for r in runs])
    if text:
        needle = text.lower()
        hit = table[["name", "kind", "error"]].apply(lambda c: c.str.lower().str.contains(needle, regex=False))
        table = table[hit.any(axis=1)]
    if kinds:
        table = table[table["kind"].isin(kinds)]
    if statuses:
        table = table[table["status"].isin(statuses)]
    col, asc = SORTS[order]
    table = table.sort_values(col, ascending=asc, na_position="last", kind="stable").reset_index(drop=True)
    if table.empty:
        st.info("No run matches the filter.")
        st.stop()

    event = st.dataframe(table, hide_index=True, width="stretch", height=min(400, 40 + 35 * len(table)),
                         key="runs-table", on_select="rerun", selection_mode="multi-row",
                         column_config={"progress": st.column_config.ProgressColumn("progress", min_value=0.0,
                                                                                    max_value=1.0, format="percent")})
    clicked = [int(table.iloc[i]["id"]) for i in event.selection.rows] if event and event.selection else []
    st.caption(f"{len(table)} of {len(runs)} runs · click a row to open it; tick several to compare or delete them; "
               "click a column header to sort by it.")

    labels = {r.id: f"#{r.id} {r.kind} — {r.name or ''} ({r.status})" for r in runs}
    visible = [int(i) for i in table["id"]]
    # A click in the table drives the pickers below (only when the selection changes, so a pick stays).
    if clicked != st.session_state.get("runs-last-click"):
        st.session_state["runs-last-click"] = clicked
        if clicked:
            st.session_state["runs-pick"] = clicked[0]
            st.session_state["runs-selected"] = clicked
            if len(clicked) > 1:
                st.session_state["cmp-pick"] = clicked
    if st.session_state.get("runs-pick") not in visible:
        st.session_state.pop("runs-pick", None)

    st.session_state["runs-selected"] = [i for i in st.session_state.get("runs-selected", []) if i in visible]
    s1, s2 = st.columns([4, 1])
    selected = s1.multiselect("Selected runs", visible, format_func=labels.get, key="runs-selected",
                              placeholder="tick rows in the table, or choose here")
    with s2.popover(f"Delete {len(selected)}", icon=":material/delete:", disabled=not selected):
        n_active = sum(store.get_run(i).active for i in selected if i in labels)
        st.write(f"Delete {len(selected)} run(s) and everything they reported?"
                 + (f" {n_active} still queued or running will be cancelled first." if n_active else ""))
        if st.button("Yes, delete them", key="bulk-del-yes", type="primary"):
            jobs.delete(list(selected))
            st.session_state.pop("runs-selected", None)
            st.session_state.pop("runs-pick", None)
            st.rerun()

    tab_one, tab_compare = st.tabs(["Inspect a run", "Compare runs"])

    with tab_one:
        run_id = st.selectbox("Run", visible, format_func=labels.get, key="runs-pick")
        run = store.get_run(run_id)
        c1, c2, c3, c4 = st.columns(4)
        c1.download_button("Metrics (CSV)", store.export_metrics_csv(run_id), f"run-{run_id}-metrics.csv",
                           "text/csv", key="dl-csv")
        c2.download_button("Run (JSON)", store.export_json(run_id), f"run-{run_id}.json",
                           "application/json", key="dl-json")
        names = store.artifact_names(run_id)
        if names:
            art = c3.selectbox("File", names, key="art-pick", label_visibility="collapsed")
            data, mime = store.artifact(run_id, art)
            c3.download_button(f"Download {art}", data, f"run-{run_id}-{art}", mime, key="dl-art")
        with c4.popover("Delete", icon=":material/delete:"):
            st.write(f"Delete run #{run_id} and everything it reported?"
                     + (" It is still active and will be cancelled first." if run.active else ""))
            if st.button("Yes, delete", key="del-yes", type="primary"):
                jobs.delete(run_id)  # a queued or running run is cancelled first
                st.rerun()
        live(run_id, draw_run, key="runs-view")
        logs = store.logs(run_id)
        if logs:
            with st.expander(f"Log ({len(logs)} lines)"):
                st.code("\n".join(logs[-200:]))

    with tab_compare:
        if "cmp-pick" not in st.session_state:
            st.session_state["cmp-pick"] = [r.id for r in runs if r.status == "finished" and r.id in visible][:3]
        st.session_state["cmp-pick"] = [i for i in st.session_state["cmp-pick"] if i in labels]
        picked = st.multiselect("Runs to compare", list(labels), format_func=labels.get, key="cmp-pick")
        if picked:
            chosen = {rid: store.get_run(rid) for rid in picked}
            frames = {rid: store.metrics(rid) for rid in picked}
            common = sorted(set.intersection(*(set(f["name"]) for f in frames.values()))) if frames else []
            if not common:
                st.info("These runs report no metric in common.")
            else:
                m1, m2 = st.columns([3, 2])
                metric = m1.selectbox("Metric", common, key="cmp-metric")
                by = m2.radio("x axis", list(ALIGN), format_func=ALIGN.get, horizontal=True, key="cmp-x",
                              help="Runs of different lengths line up by their fraction of training or by "
                                   "epoch, not by raw optimiser step.")
                aligned = align_runs({f"{labels[rid].split(' — ')[0]} {chosen[rid].name or ''}":
                                      (frames[rid][frames[rid]["name"] == metric], chosen[rid].total,
                                       chosen[rid].config) for rid in picked}, by=by)
                st.plotly_chart(line_chart(aligned, x="x", y="value", color="run", title=metric)
                                .update_layout(xaxis_title=ALIGN[by], xaxis_tickformat=".0%" if by == "fraction" else None),
                                key="cmp-chart")
                rows = [{"run": labels[rid], **{k: v for k, v in (chosen[rid].result or {}).items()
                                                if isinstance(v, (int, float))}} for rid in picked]
                st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
