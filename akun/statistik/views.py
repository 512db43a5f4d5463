"""The public statistics page and its open data: no sign-in, no personal data."""

import csv
import io
import json

from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_safe

from akun.core.replica import read_from_replica
from akun.statistik import public

FIELDS = list(public.Row.__dataclass_fields__)
CACHE = cache_control(public=True, max_age=300)


@require_safe
@CACHE
@read_from_replica
def statistics_view(request):
    rows = public.provinces()
    days = public.trend()
    return render(
        request,
        "statistik/public.html",
        {
            "nation": public.national(),
            "rows": rows,
            "chart": public.rate_chart(rows),
            "trend": public.trend_chart(days),
            "days": days,
            "min_public": public.MIN_PUBLIC,
        },
    )


@require_safe
@CACHE
@read_from_replica
def data_csv_view(request):
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\r\n")
    w.writerow(FIELDS)
    for r in [public.national(), *public.provinces()]:
        w.writerow(["" if v is None else v for v in r.as_dict().values()])
    response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="statistik-akun.csv"'
    return response


@require_safe
@CACHE
@read_from_replica
def data_json_view(request):
    body = {
        "fields": FIELDS,
        "min_public": public.MIN_PUBLIC,
        "national": public.national().as_dict(),
        "provinces": [r.as_dict() for r in public.provinces()],
        "activations_per_day": [{"day": d.isoformat(), "n": n} for d, n in public.trend()],
    }
    return HttpResponse(
        json.dumps(body, ensure_ascii=False), content_type="application/json; charset=utf-8"
    )


@require_safe
@CACHE
@read_from_replica
def trend_csv_view(request):
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\r\n")
    w.writerow(["day", "activated"])
    for d, n in public.trend():
        w.writerow([d.isoformat(), n])
    response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="aktivasi-harian.csv"'
    return response
