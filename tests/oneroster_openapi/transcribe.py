# ruff: noqa: E501
# Wrote the vendored extract of 1EdTech's OneRoster 1.2 rostering OpenAPI document from what
# was read of it (1EdTech/oneroster-bootcamp @ 13f31e717aedb82bf41739cca9d352732841d8ad,
# src/main/resources/oas/onerosterv1p2rostersservice_openapi3_v1p0.json): every path, operation,
# parameter, security requirement, response, header, link and schema as published, with the
# operations' and schemas' `description`/`summary` texts left out (the responses', links' and
# headers' descriptions are kept: OpenAPI 3.0 requires a response's). Run: python tests/oneroster_openapi/transcribe.py OUT.json
import json
import sys

CORE = "https://purl.imsglobal.org/spec/or/v1p2/scope/roster-core.readonly"
ROSTER = "https://purl.imsglobal.org/spec/or/v1p2/scope/roster.readonly"
DEMO = "https://purl.imsglobal.org/spec/or/v1p2/scope/roster-demographics.readonly"
S = "#/components/schemas/"


def qp(name, schema):
    return {
        "name": name,
        "in": "query",
        "required": False,
        "schema": schema,
        "style": "form",
        "allowEmptyValue": False,
    }


LIMIT = qp("limit", {"type": "integer", "format": "int32", "default": 100, "minimum": 1})
OFFSET = qp("offset", {"type": "integer", "format": "int32", "default": 0, "minimum": 0})
SORT = qp("sort", {"type": "string"})
ORDER = qp("orderBy", {"type": "string", "enum": ["asc", "desc"]})
FILTER = qp("filter", {"type": "string"})
FIELDS = qp("fields", {"type": "array", "items": {"type": "string"}})


def pp(name):
    return {
        "name": name,
        "in": "path",
        "required": True,
        "schema": {"type": "string"},
        "style": "simple",
    }


D = {
    "default": "This is the default error response when no other appropriate code is available.  This would be accompanied by the 'codeMajor/severity' values of 'failure/error'. ",
    "200c": "The request was successfully completed and a collection has been returned. This would be accompanied by the 'codeMajor/severity' values of 'success/status' and for a REST binding a HTTP code of '200'.",
    "200s": "The request was successfully completed and a record has been returned. This would be accompanied by the 'codeMajor/severity' values of 'success/status' and for a REST binding a HTTP code of '200'.",
    "400": "Either an invalid selection field or invalid filter selection was supplied and data filtering on the selection criteria was not possible i.e. 'invalid_selection_field' or  'invalid_filter_field' respectively. This is accompanied by the 'codeMajor/severity' values of 'failure/error'. ",
    "401": "The request was not correctly authorised i.e. 'unauthorisedrequest'. This would be accompanied by the 'codeMajor/severity' values of 'failure/error'. ",
    "403": "This is used to indicate that the server can be reached and process the request but refuses to take any further action i.e. 'forbidden'. This would be accompanied by the 'codeMajor/severity' values of 'failure/error'. ",
    "404": "Either the supplied identifier is unknown in the Service Provider and so the object could not be changed or an invalid GUID has been supplied. This would be accompanied by the 'codeMajor/severity' values of 'failure/error'. The statement 'Unknown Object' should also be presented. ",
    "422": "This error condition may occur if a JSON request body contains well-formed (i.e. syntactically correct), but semantically erroneous, JSON instructions. This would be accompanied by the 'codeMajor/severity' values of 'failure/error'. ",
    "429": "The server is receiving too many requests i.e. 'server_busy'. Retry at a later time. This would be accompanied by the 'codeMajor/severity' values of 'failure/error'. ",
    "500": "This code should be used only if there is catastrophic error and there is not a more appropriate code i.e. 'internal_server_error'. This would be accompanied by the 'codeMajor/severity' values of 'failure/error'. ",
    "next": "Get the next set of resources i.e. from offset to offset+limit",
    "last": "Get the last set of resources i.e. from offset to end",
    "first": "Get the first set of resources i.e. from first to limit",
    "prev": "Get the previous set of resources i.e. from last_offset to last_offset+limit",
}


def err(code):
    return {
        "description": D[code],
        "content": {"application/json": {"schema": {"$ref": S + "imsx_StatusInfoDType"}}},
    }


def op(op_id, tag, params, scopes, schema, collection):
    ok = {
        "description": D["200c" if collection else "200s"],
        "content": {"application/json": {"schema": {"$ref": S + schema}}},
    }
    if collection:
        ok["headers"] = {
            "X-Total-Count": {
                "description": "The total number of resources that are available to be returned",
                "schema": {"type": "integer"},
            }
        }
        ok["links"] = {
            rel: {
                "description": D[rel],
                "operationId": op_id,
                "parameters": {"limit": "$request.path.limit", "offset": "$request.path.offset"},
            }
            for rel in ("next", "last", "first", "prev")
        }
        parameters = [pp(p) for p in params] + [LIMIT, OFFSET, SORT, ORDER, FILTER, FIELDS]
    else:
        parameters = [pp(p) for p in params] + [FIELDS]
    responses = {
        "default": err("default"),
        "200": ok,
        "400": err("400"),
        "401": err("401"),
        "403": err("403"),
    }
    if not collection:
        responses["404"] = err("404")
    responses.update({"422": err("422"), "429": err("429"), "500": err("500")})
    return {
        "get": {
            "operationId": op_id,
            "tags": [tag],
            "parameters": parameters,
            "security": [{"OAuth2CC": scopes}],
            "responses": responses,
        }
    }


BOTH = [ROSTER, CORE]
R = [ROSTER]
OPS = [
    # path, operationId, tag, path params, scopes, 200 schema, collection
    (
        "/academicSessions",
        "getAllAcademicSessions",
        "AcademicSessionsManagement",
        [],
        BOTH,
        "AcademicSessionSetDType",
        True,
    ),
    (
        "/academicSessions/{sourcedId}",
        "getAcademicSession",
        "AcademicSessionsManagement",
        ["sourcedId"],
        BOTH,
        "SingleAcademicSessionDType",
        False,
    ),
    ("/classes", "getAllClasses", "ClassesManagement", [], BOTH, "ClassSetDType", True),
    (
        "/classes/{classSourcedId}/students",
        "getStudentsForClass",
        "ClassesManagement",
        ["classSourcedId"],
        R,
        "UserSetDType",
        True,
    ),
    (
        "/classes/{classSourcedId}/teachers",
        "getTeachersForClass",
        "ClassesManagement",
        ["classSourcedId"],
        R,
        "UserSetDType",
        True,
    ),
    (
        "/classes/{sourcedId}",
        "getClass",
        "ClassesManagement",
        ["sourcedId"],
        BOTH,
        "SingleClassDType",
        False,
    ),
    ("/courses", "getAllCourses", "CoursesManagement", [], BOTH, "CourseSetDType", True),
    (
        "/courses/{courseSourcedId}/classes",
        "getClassesForCourse",
        "CoursesManagement",
        ["courseSourcedId"],
        R,
        "ClassSetDType",
        True,
    ),
    (
        "/courses/{sourcedId}",
        "getCourse",
        "CoursesManagement",
        ["sourcedId"],
        BOTH,
        "SingleCourseDType",
        False,
    ),
    (
        "/demographics",
        "getAllDemographics",
        "DemographicsManagement",
        [],
        [DEMO],
        "DemographicsSetDType",
        True,
    ),
    (
        "/demographics/{sourcedId}",
        "getDemographics",
        "DemographicsManagement",
        ["sourcedId"],
        [DEMO],
        "SingleDemographicsDType",
        False,
    ),
    (
        "/enrollments",
        "getAllEnrollments",
        "EnrollmentsManagement",
        [],
        BOTH,
        "EnrollmentSetDType",
        True,
    ),
    (
        "/enrollments/{sourcedId}",
        "getEnrollment",
        "EnrollmentsManagement",
        ["sourcedId"],
        BOTH,
        "SingleEnrollmentDType",
        False,
    ),
    (
        "/gradingPeriods",
        "getAllGradingPeriods",
        "GradingPeriodsManagement",
        [],
        BOTH,
        "AcademicSessionSetDType",
        True,
    ),
    (
        "/gradingPeriods/{sourcedId}",
        "getGradingPeriod",
        "GradingPeriodsManagement",
        ["sourcedId"],
        BOTH,
        "SingleAcademicSessionDType",
        False,
    ),
    ("/orgs", "getAllOrgs", "OrgsManagement", [], BOTH, "OrgSetDType", True),
    ("/orgs/{sourcedId}", "getOrg", "OrgsManagement", ["sourcedId"], BOTH, "SingleOrgDType", False),
    ("/schools", "getAllSchools", "SchoolsManagement", [], BOTH, "OrgSetDType", True),
    (
        "/schools/{schoolSourcedId}/classes",
        "getClassesForSchool",
        "SchoolsManagement",
        ["schoolSourcedId"],
        R,
        "ClassSetDType",
        True,
    ),
    (
        "/schools/{schoolSourcedId}/classes/{classSourcedId}/enrollments",
        "getEnrollmentsForClassInSchool",
        "SchoolsManagement",
        ["schoolSourcedId", "classSourcedId"],
        R,
        "EnrollmentSetDType",
        True,
    ),
    (
        "/schools/{schoolSourcedId}/classes/{classSourcedId}/students",
        "getStudentsForClassInSchool",
        "SchoolsManagement",
        ["schoolSourcedId", "classSourcedId"],
        R,
        "UserSetDType",
        True,
    ),
    (
        "/schools/{schoolSourcedId}/classes/{classSourcedId}/teachers",
        "getTeachersForClassInSchool",
        "SchoolsManagement",
        ["schoolSourcedId", "classSourcedId"],
        R,
        "UserSetDType",
        True,
    ),
    (
        "/schools/{schoolSourcedId}/courses",
        "getCoursesForSchool",
        "SchoolsManagement",
        ["schoolSourcedId"],
        R,
        "CourseSetDType",
        True,
    ),
    (
        "/schools/{schoolSourcedId}/enrollments",
        "getEnrollmentsForSchool",
        "SchoolsManagement",
        ["schoolSourcedId"],
        R,
        "EnrollmentSetDType",
        True,
    ),
    (
        "/schools/{schoolSourcedId}/students",
        "getStudentsForSchool",
        "SchoolsManagement",
        ["schoolSourcedId"],
        R,
        "UserSetDType",
        True,
    ),
    (
        "/schools/{schoolSourcedId}/teachers",
        "getTeachersForSchool",
        "SchoolsManagement",
        ["schoolSourcedId"],
        R,
        "UserSetDType",
        True,
    ),
    (
        "/schools/{schoolSourcedId}/terms",
        "getTermsForSchool",
        "SchoolsManagement",
        ["schoolSourcedId"],
        R,
        "AcademicSessionSetDType",
        True,
    ),
    (
        "/schools/{sourcedId}",
        "getSchool",
        "SchoolsManagement",
        ["sourcedId"],
        BOTH,
        "SingleOrgDType",
        False,
    ),
    ("/students", "getAllStudents", "StudentsManagement", [], BOTH, "UserSetDType", True),
    (
        "/students/{sourcedId}",
        "getStudent",
        "StudentsManagement",
        ["sourcedId"],
        BOTH,
        "SingleUserDType",
        False,
    ),
    (
        "/students/{studentSourcedId}/classes",
        "getClassesForStudent",
        "StudentsManagement",
        ["studentSourcedId"],
        R,
        "ClassSetDType",
        True,
    ),
    ("/teachers", "getAllTeachers", "TeachersManagement", [], BOTH, "UserSetDType", True),
    (
        "/teachers/{sourcedId}",
        "getTeacher",
        "TeachersManagement",
        ["sourcedId"],
        BOTH,
        "SingleUserDType",
        False,
    ),
    (
        "/teachers/{teacherSourcedId}/classes",
        "getClassesForTeacher",
        "TeachersManagement",
        ["teacherSourcedId"],
        R,
        "ClassSetDType",
        True,
    ),
    ("/terms", "getAllTerms", "TermsManagement", [], BOTH, "AcademicSessionSetDType", True),
    (
        "/terms/{sourcedId}",
        "getTerm",
        "TermsManagement",
        ["sourcedId"],
        BOTH,
        "SingleAcademicSessionDType",
        False,
    ),
    (
        "/terms/{termSourcedId}/classes",
        "getClassesForTerm",
        "TermsManagement",
        ["termSourcedId"],
        R,
        "ClassSetDType",
        True,
    ),
    (
        "/terms/{termSourcedId}/gradingPeriods",
        "getGradingPeriodsForTerm",
        "TermsManagement",
        ["termSourcedId"],
        R,
        "AcademicSessionSetDType",
        True,
    ),
    ("/users", "getAllUsers", "UsersManagement", [], BOTH, "UserSetDType", True),
    (
        "/users/{sourcedId}",
        "getUser",
        "UsersManagement",
        ["sourcedId"],
        BOTH,
        "SingleUserDType",
        False,
    ),
    (
        "/users/{userSourcedId}/classes",
        "getClassesForUser",
        "UsersManagement",
        ["userSourcedId"],
        R,
        "ClassSetDType",
        True,
    ),
]


def obj(props, required=None, additional=False):
    out = {"type": "object", "properties": props}
    if required:
        out["required"] = required
    out["additionalProperties"] = additional
    return out


STR = {"type": "string"}


def ref(name):
    return {"$ref": S + name}


def arr(items, min_items=0):
    return {"type": "array", "minItems": min_items, "items": items}


def enum(*values):
    return {"type": "string", "enum": list(values)}


def ext(*values):
    return {"anyOf": [enum(*values), {"type": "string", "pattern": "(ext:)[a-zA-Z0-9\\.\\-_]+"}]}


STATUS = enum("active", "tobedeleted")
DT = {"type": "string", "format": "date-time"}
DATE = {"type": "string", "format": "date"}
URI = {"type": "string", "format": "uri"}
TF = enum("true", "false")
BASE = {
    "sourcedId": STR,
    "status": STATUS,
    "dateLastModified": DT,
    "metadata": ref("MetadataDType"),
}
REQ = ["sourcedId", "status", "dateLastModified"]


def guidref(kind):
    return obj({"href": URI, "sourcedId": STR, "type": enum(kind)}, ["href", "sourcedId", "type"])


def setof(key, item):
    return obj({key: arr(ref(item))})


def single(key, item):
    return obj({key: ref(item)}, [key])


SCHEMAS = {
    "AcadSessionGUIDRefDType": guidref("academicSession"),
    "AcademicSessionDType": obj(
        {
            **BASE,
            "title": STR,
            "startDate": DATE,
            "endDate": DATE,
            "type": ext("gradingPeriod", "semester", "schoolYear", "term"),
            "parent": ref("AcadSessionGUIDRefDType"),
            "children": arr(ref("AcadSessionGUIDRefDType")),
            "schoolYear": STR,
        },
        REQ + ["title", "startDate", "endDate", "type", "schoolYear"],
    ),
    "AcademicSessionSetDType": setof("academicSessions", "AcademicSessionDType"),
    "ClassDType": obj(
        {
            **BASE,
            "title": STR,
            "classCode": STR,
            "classType": ext("homeroom", "scheduled"),
            "location": STR,
            "grades": arr(STR),
            "subjects": arr(STR),
            "course": ref("CourseGUIDRefDType"),
            "school": ref("OrgGUIDRefDType"),
            "terms": arr(ref("AcadSessionGUIDRefDType"), 1),
            "subjectCodes": arr(STR),
            "periods": arr(STR),
            "resources": arr(ref("ResourceGUIDRefDType")),
        },
        REQ + ["title", "course", "school", "terms"],
    ),
    "ClassGUIDRefDType": guidref("class"),
    "ClassSetDType": setof("classes", "ClassDType"),
    "CourseDType": obj(
        {
            **BASE,
            "title": STR,
            "schoolYear": ref("AcadSessionGUIDRefDType"),
            "courseCode": STR,
            "grades": arr(STR),
            "subjects": arr(STR),
            "org": ref("OrgGUIDRefDType"),
            "subjectCodes": arr(STR),
            "resources": arr(ref("ResourceGUIDRefDType")),
        },
        REQ + ["title", "courseCode"],
    ),
    "CourseGUIDRefDType": guidref("course"),
    "CourseSetDType": setof("courses", "CourseDType"),
    "CredentialDType": obj(
        {"type": STR, "username": STR, "password": STR}, ["type", "username"], True
    ),
    "DemographicsDType": obj(
        {
            **BASE,
            "birthDate": DATE,
            "sex": ext("male", "female", "unspecified", "other"),
            "americanIndianOrAlaskaNative": TF,
            "asian": TF,
            "blackOrAfricanAmerican": TF,
            "nativeHawaiianOrOtherPacificIslander": TF,
            "white": TF,
            "demographicRaceTwoOrMoreRaces": TF,
            "hispanicOrLatinoEthnicity": TF,
            "countryOfBirthCode": STR,
            "stateOfBirthAbbreviation": STR,
            "cityOfBirth": STR,
            "publicSchoolResidenceStatus": STR,
        },
        REQ,
    ),
    "DemographicsSetDType": setof("demographics", "DemographicsDType"),
    "EnrollmentDType": obj(
        {
            **BASE,
            "user": ref("UserGUIDRefDType"),
            "class": ref("ClassGUIDRefDType"),
            "school": ref("OrgGUIDRefDType"),
            "role": ext("administrator", "proctor", "student", "teacher"),
            "primary": TF,
            "beginDate": DATE,
            "endDate": DATE,
        },
        REQ + ["user", "class", "school", "role"],
    ),
    "EnrollmentSetDType": setof("enrollments", "EnrollmentDType"),
    "MetadataDType": obj({}, None, True),
    "OrgDType": obj(
        {
            **BASE,
            "name": STR,
            "type": ext("department", "district", "local", "national", "school", "state"),
            "identifier": STR,
            "parent": ref("OrgGUIDRefDType"),
            "children": arr(ref("OrgGUIDRefDType")),
        },
        REQ + ["name", "type", "identifier"],
    ),
    "OrgGUIDRefDType": guidref("org"),
    "OrgSetDType": setof("orgs", "OrgDType"),
    "ResourceGUIDRefDType": guidref("resource"),
    "RoleDType": obj(
        {
            "roleType": enum("primary", "secondary"),
            "role": ext(
                "aide",
                "counselor",
                "districtAdministrator",
                "guardian",
                "parent",
                "principal",
                "proctor",
                "relative",
                "siteAdministrator",
                "student",
                "systemAdministrator",
                "teacher",
            ),
            "org": ref("OrgGUIDRefDType"),
            "userProfile": URI,
            "beginDate": DATE,
            "endDate": DATE,
        },
        ["roleType", "role", "org"],
    ),
    "SingleAcademicSessionDType": single("academicSession", "AcademicSessionDType"),
    "SingleClassDType": single("class", "ClassDType"),
    "SingleCourseDType": single("course", "CourseDType"),
    "SingleDemographicsDType": single("demographics", "DemographicsDType"),
    "SingleEnrollmentDType": single("enrollment", "EnrollmentDType"),
    "SingleOrgDType": single("org", "OrgDType"),
    "SingleUserDType": single("user", "UserDType"),
    "UserDType": obj(
        {
            **BASE,
            "userMasterIdentifier": STR,
            "username": STR,
            "userIds": arr(ref("UserIdDType")),
            "enabledUser": TF,
            "givenName": STR,
            "familyName": STR,
            "middleName": STR,
            "preferredFirstName": STR,
            "preferredMiddleName": STR,
            "preferredLastName": STR,
            "pronouns": STR,
            "roles": arr(ref("RoleDType"), 1),
            "userProfiles": arr(ref("UserProfileDType")),
            "primaryOrg": ref("OrgGUIDRefDType"),
            "identifier": STR,
            "email": STR,
            "sms": STR,
            "phone": STR,
            "agents": arr(ref("UserGUIDRefDType")),
            "grades": arr(STR),
            "password": STR,
            "resources": arr(ref("ResourceGUIDRefDType")),
        },
        REQ + ["enabledUser", "givenName", "familyName", "roles"],
    ),
    "UserGUIDRefDType": guidref("user"),
    "UserIdDType": obj({"type": STR, "identifier": STR}, ["type", "identifier"]),
    "UserProfileDType": obj(
        {
            "profileId": URI,
            "profileType": STR,
            "vendorId": STR,
            "applicationId": STR,
            "description": STR,
            "credentials": arr(ref("CredentialDType")),
        },
        ["profileId", "profileType", "vendorId"],
    ),
    "UserSetDType": setof("users", "UserDType"),
    "imsx_CodeMinorDType": obj(
        {"imsx_codeMinorField": arr(ref("imsx_CodeMinorFieldDType"), 1)}, ["imsx_codeMinorField"]
    ),
    "imsx_CodeMinorFieldDType": obj(
        {
            "imsx_codeMinorFieldName": {"type": "string", "default": "TargetEndSystem"},
            "imsx_codeMinorFieldValue": enum(
                "fullsuccess",
                "invalid_filter_field",
                "invalid_selection_field",
                "invaliddata",
                "unauthorisedrequest",
                "forbidden",
                "server_busy",
                "unknownobject",
                "internal_server_error",
            ),
        },
        ["imsx_codeMinorFieldName", "imsx_codeMinorFieldValue"],
    ),
    "imsx_StatusInfoDType": obj(
        {
            "imsx_codeMajor": enum("success", "processing", "failure", "unsupported"),
            "imsx_severity": enum("status", "warning", "error"),
            "imsx_description": STR,
            "imsx_CodeMinor": ref("imsx_CodeMinorDType"),
        },
        ["imsx_codeMajor", "imsx_severity"],
    ),
}

TAGS = [
    "AcademicSessionsManagement",
    "ClassesManagement",
    "CoursesManagement",
    "DemographicsManagement",
    "EnrollmentsManagement",
    "GradingPeriodsManagement",
    "OrgsManagement",
    "SchoolsManagement",
    "StudentsManagement",
    "TeachersManagement",
    "TermsManagement",
    "UsersManagement",
]

doc = {
    "openapi": "3.0.0",
    "info": {
        "version": "1.2",
        "title": "OneRoster OpenAPI (JSON) Definition",
        "termsOfService": "https://www.imsglobal.org/license.html",
        "contact": {
            "name": "Vice President of Operations, 1EdTech",
            "url": "https://www.1edtech.org",
            "email": "operations@1edtech.org",
        },
        "license": {"name": "1EdTech", "url": "https://www.1edtech.org/license.html"},
    },
    "servers": [{"url": "https://xaracil.ngrok.dev/ims/oneroster/rostering/v1p2"}],
    "tags": [{"name": t} for t in TAGS],
    "paths": {p: op(i, t, pp_, sc, s, c) for p, i, t, pp_, sc, s, c in OPS},
    "components": {
        "securitySchemes": {
            "OAuth2CC": {
                "type": "oauth2",
                "flows": {
                    "clientCredentials": {
                        "tokenUrl": "https://www.imsglobal.org",
                        "scopes": {
                            ROSTER: "Support for all of the read operations (excluding demographics) to enable information about collections or a single object to be obtained.",
                            CORE: "The core set of read operations to enable information about collections or a single object to be obtained.",
                            DEMO: "The read operations to provide all demographics or a single demographics object to be obtained.",
                        },
                    }
                },
            }
        },
        "schemas": SCHEMAS,
    },
}
json.dump(doc, open(sys.argv[1], "w"), indent=1, ensure_ascii=False)
open(sys.argv[1], "a").write("\n")
print(len(OPS), "operations,", len(SCHEMAS), "schemas")
