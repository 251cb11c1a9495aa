"""Runs: every run in the store — inspect, compare, export, delete."""
import pandas as pd
import streamlit as st

from dashboard import jobs
from dashboard.components.common import explain, guard
from dashboard.components.figures import line_chart
from dashboard.components.live import live
from dashboard.components.run_view import draw_run

st.title("Runs")
explain("runs", expanded=False, title="About runs")

with guard("reading the run store"):
    store = jobs.store()
    runs = store.list_runs()
    if not runs:
        st.info("No runs yet. Start one from a page on the left, or from the terminal: "
                "`python -m engine run sparse --method magnitude --sparsity 0.9`.")
        st.stop()

    table = pd.DataFrame([{
        "id": r.id, "kind": r.kind, "name": r.name or "", "status": r.status, "seed": r.seed,
        "started": pd.to_datetime(r.started_at, unit="s") if r.started_at else None,
        "seconds": round(r.seconds, 1) if r.seconds is not None else None,
        "error": (r.error or "")[:80],
    } for r in runs])
    st.dataframe(table, hide_index=True, width="stretch", height=min(400, 40 + 35 * len(table)))

    labels = {r.id: f"#{r.id} {r.kind} — {r.name or ''} ({r.status})" for r in runs}
    tab_one, tab_compare = st.tabs(["Inspect a run", "Compare runs"])

    with tab_one:
        run_id = st.selectbox("Run", list(labels), format_func=labels.get, key="runs-pick")
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
            st.write(f"Delete run #{run_id} and everything it reported?")
            if st.button("Yes, delete", key="del-yes", type="primary"):
                jobs.delete(run_id)  # a queued or running run is cancelled first
                st.rerun()
        live(run_id, draw_run, key="runs-view")
        logs = store.logs(run_id)
        if logs:
            with st.expander(f"Log ({len(logs)} lines)"):
                st.code("\n".join(logs[-200:]))

    with tab_compare:
        picked = st.multiselect("Runs to compare", list(labels), format_func=labels.get, key="cmp-pick",
                                default=[r.id for r in runs if r.status == "finished"][:3])
        if picked:
            frames = []
            for rid in picked:
                df = store.metrics(rid)
                df["run"] = labels[rid].split(" — ")[0] + " " + (store.get_run(rid).name or "")
                frames.append(df)
            all_df = pd.concat(frames, ignore_index=True)
            common = sorted(set.intersection(*(set(f["name"]) for f in frames))) if frames else []
            if not common:
                st.info("These runs report no metric in common.")
            else:
                metric = st.selectbox("Metric", common, key="cmp-metric")
                st.plotly_chart(line_chart(all_df[all_df["name"] == metric], x="step", y="value", color="run",
                                           title=metric), key="cmp-chart")
                rows = [{"run": labels[rid], **{k: v for k, v in (store.get_run(rid).result or {}).items()
                                                if isinstance(v, (int, float))}} for rid in picked]
                st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
