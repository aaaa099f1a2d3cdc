#!/usr/bin/env python3
"""Turns scikit-learn's breast_cancer.csv into the two datasets of this example, and a train/test split.

tumours.csv:   patient_id, event_timestamp, the 30 measurements (one row per patient, measured on 2026-01-01 + id hours)
diagnoses.csv: patient_id, event_timestamp (an hour after the measurement), malignant (1: malignant, 0: benign),
               for the training patients only (patient_id % 5 != 0); the test patients (patient_id % 5 == 0) are in
               test.csv with their label, for scoring a model on patients it never saw.
Usage: prepare.py [BREAST_CANCER_CSV] [OUT_DIR]"""
import csv, os, sys
from datetime import datetime, timedelta, timezone

source = sys.argv[1] if len(sys.argv) > 1 else "/usr/lib/python3/dist-packages/sklearn/datasets/data/breast_cancer.csv"
out = sys.argv[2] if len(sys.argv) > 2 else "."
here = os.path.dirname(os.path.abspath(__file__))
columns = [c.strip() for c in open(os.path.join(here, "columns.txt")) if c.strip()]
start = datetime(2026, 1, 1, tzinfo=timezone.utc)
with open(source) as f:
    rows = list(csv.reader(f))[1:]
def stamp(t): return t.strftime("%Y-%m-%dT%H:%M:%SZ")
with open(os.path.join(out, "tumours.csv"), "w", newline="") as t, open(os.path.join(out, "diagnoses.csv"), "w", newline="") as d, \
     open(os.path.join(out, "test.csv"), "w", newline="") as e:
    tw, dw, ew = csv.writer(t), csv.writer(d), csv.writer(e)
    tw.writerow(["patient_id", "event_timestamp", *columns])
    dw.writerow(["patient_id", "event_timestamp", "malignant"])
    ew.writerow(["patient_id", "malignant"])
    for i, row in enumerate(rows):
        measured = start + timedelta(hours=i)
        malignant = 1 - int(row[30])  # scikit-learn's target: 0 malignant, 1 benign
        tw.writerow([i, stamp(measured), *row[:30]])
        (ew.writerow([i, malignant]) if i % 5 == 0 else dw.writerow([i, stamp(measured + timedelta(hours=1)), malignant]))
