"""The operator portal's OneRoster download: a school operator's own school's CSV package
(the file an LMS or Microsoft SDS imports). Only the operator's own schools (their roster
role), not every school a regional admin oversees; no personal data (NISN, birth dates)."""

import tempfile

from django.http import FileResponse, Http404

from akun.oneroster import package
from akun.portal.api import admin_view, request_scope
from akun.roster.api import Sekolah


@admin_view
def package_view(request, npsn):
    scope = request_scope(request)
    mine = Sekolah.objects.filter(npsn=npsn, pk__in=list(scope.sekolah_ids)).exists()
    if not mine:
        raise Http404
    # A school's package is small: spooled in memory, on disk past 8 MB.
    out = tempfile.SpooledTemporaryFile(max_size=8 << 20)
    package.do_export_package(out, org=npsn, actor=request.user.user_id)
    out.seek(0)
    return FileResponse(
        out,
        as_attachment=True,
        filename=f"oneroster-{npsn}.zip",
        content_type="application/zip",
    )
