from django.urls import path, re_path

from akun.oneroster import views

app_name = "oneroster"

# sourcedIds: anything but a slash (they are ours: npsn-..., wilayah-..., rombel-..., user IDs).
SID = "<str:sid>"

urlpatterns = [
    path("academicSessions", views.academic_sessions, name="academic_sessions"),
    path(f"academicSessions/{SID}", views.academic_session, name="academic_session"),
    path("terms", views.terms, name="terms"),
    path(f"terms/{SID}", views.term, name="term"),
    path(f"terms/{SID}/classes", views.term_classes, name="term_classes"),
    path(f"terms/{SID}/gradingPeriods", views.term_grading_periods, name="term_grading_periods"),
    path("gradingPeriods", views.grading_periods, name="grading_periods"),
    path(f"gradingPeriods/{SID}", views.grading_period, name="grading_period"),
    path(f"courses/{SID}/classes", views.course_classes, name="course_classes"),
    path(f"classes/{SID}/students", views.class_students, name="class_students"),
    path(f"classes/{SID}/teachers", views.class_teachers, name="class_teachers"),
    path(f"users/{SID}/classes", views.user_classes, name="user_classes"),
    path(f"students/{SID}/classes", views.student_classes, name="student_classes"),
    path(f"teachers/{SID}/classes", views.teacher_classes, name="teacher_classes"),
    path(f"schools/{SID}/classes", views.school_classes, name="school_classes"),
    path(f"schools/{SID}/courses", views.school_courses, name="school_courses"),
    path(f"schools/{SID}/enrollments", views.school_enrollments, name="school_enrollments"),
    path(f"schools/{SID}/students", views.school_students, name="school_students"),
    path(f"schools/{SID}/teachers", views.school_teachers, name="school_teachers"),
    path(f"schools/{SID}/terms", views.school_terms, name="school_terms"),
    path(
        f"schools/{SID}/classes/<str:cid>/enrollments",
        views.school_class_enrollments,
        name="school_class_enrollments",
    ),
    path(
        f"schools/{SID}/classes/<str:cid>/students",
        views.school_class_students,
        name="school_class_students",
    ),
    path(
        f"schools/{SID}/classes/<str:cid>/teachers",
        views.school_class_teachers,
        name="school_class_teachers",
    ),
    *[path(name, view, name=f"list_{name}") for name, view in views.LIST.items()],
    *[path(f"{name}/{SID}", view, name=f"get_{name}") for name, view in views.GET.items()],
    re_path(r"^(?P<rest>.*)$", views.not_found, name="not_found"),
]
