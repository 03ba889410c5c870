"""XLSForms built in the tests, as a person would write them in Excel.

`pizza_form()` follows the examples of the XLSForm documentation (xlsform.org, and the multiple
languages page of ODK's): a respondent group with a name and an age constrained to adults,
`select_one yes_no likes_pizza` with `select_multiple pizza_toppings favorite_topping` shown
only when `${likes_pizza} = 'yes'`, and `select_multiple colors color_prefs` with its hint, every
label and hint in English and Vietnamese (`label::English (en)`, `label::Tiếng Việt (vi)`), and
the start/end metadata KoboToolbox adds to every form.
"""

from __future__ import annotations

import io

EN = "English (en)"
VI = "Tiếng Việt (vi)"

SURVEY_HEADER = [
    "type",
    "name",
    f"label::{EN}",
    f"label::{VI}",
    f"hint::{EN}",
    f"hint::{VI}",
    "required",
    "relevant",
    "constraint",
    f"constraint_message::{EN}",
    f"constraint_message::{VI}",
    "appearance",
]


def survey_row(**cells) -> list:
    names = {
        "label_en": f"label::{EN}",
        "label_vi": f"label::{VI}",
        "hint_en": f"hint::{EN}",
        "hint_vi": f"hint::{VI}",
        "message_en": f"constraint_message::{EN}",
        "message_vi": f"constraint_message::{VI}",
    }
    by_column = {names.get(key, key): value for key, value in cells.items()}
    return [by_column.get(column) for column in SURVEY_HEADER]


PIZZA_SURVEY = [
    survey_row(type="start", name="start"),
    survey_row(type="end", name="end"),
    survey_row(
        type="begin group",
        name="respondent",
        label_en="Respondent",
        label_vi="Người trả lời",
        appearance="field-list",
    ),
    survey_row(
        type="text",
        name="name",
        label_en="What is your name?",
        label_vi="Bạn tên là gì?",
        required="yes",
    ),
    survey_row(
        type="integer",
        name="age",
        label_en="How old are you?",
        label_vi="Bạn bao nhiêu tuổi?",
        required="yes",
        constraint=". >= 18 and . <= 110",
        message_en="Age must be between 18 and 110.",
        message_vi="Tuổi phải từ 18 đến 110.",
    ),
    survey_row(type="end group"),
    survey_row(type="begin group", name="pizza", label_en="Pizza", label_vi="Bánh pizza"),
    survey_row(
        type="select_one yes_no",
        name="likes_pizza",
        label_en="Do you like pizza?",
        label_vi="Bạn có thích pizza không?",
        required="yes",
    ),
    survey_row(
        type="select_multiple pizza_toppings",
        name="favorite_topping",
        label_en="Favorite toppings",
        label_vi="Nhân bánh yêu thích",
        relevant="${likes_pizza} = 'yes'",
    ),
    survey_row(type="end group"),
    survey_row(type="begin group", name="colors_page", label_en="Colors", label_vi="Màu sắc"),
    survey_row(
        type="note",
        name="cheese_note",
        label_en="Cheese lovers: one more question.",
        label_vi="Người thích phô mai: thêm một câu hỏi.",
        relevant="selected(${favorite_topping}, 'cheese') and not(${likes_pizza} = 'no')",
    ),
    survey_row(
        type="select_multiple colors",
        name="color_prefs",
        label_en="What colors do you like?",
        label_vi="Bạn thích những màu nào?",
        hint_en="Select three.",
        hint_vi="Chọn ba màu.",
        constraint="count-selected(.) <= 3",
        message_en="Select at most three.",
        message_vi="Chọn nhiều nhất ba màu.",
    ),
    survey_row(type="end group"),
]

CHOICES_HEADER = ["list_name", "name", f"label::{EN}", f"label::{VI}"]
PIZZA_CHOICES = [
    ["yes_no", "yes", "Yes", "Có"],
    ["yes_no", "no", "No", "Không"],
    ["pizza_toppings", "cheese", "Cheese", "Phô mai"],
    ["pizza_toppings", "pepperoni", "Pepperoni", "Xúc xích Ý"],
    ["pizza_toppings", "sausage", "Sausage", "Xúc xích"],
    ["colors", "red", "Red", "Đỏ"],
    ["colors", "blue", "Blue", "Xanh dương"],
    ["colors", "yellow", "Yellow", "Vàng"],
    ["colors", "green", "Green", "Xanh lá"],
]
SETTINGS_HEADER = ["form_title", "form_id", "default_language"]
PIZZA_SETTINGS = [["Pizza survey", "pizza", EN]]


def workbook(
    survey: list[list],
    choices: list[list] | None = None,
    settings: list[list] | None = None,
    survey_header: list[str] | None = None,
    choices_header: list[str] | None = None,
    settings_header: list[str] | None = None,
) -> bytes:
    """An .xlsx with the survey, choices and settings sheets."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "survey"
    for row in [survey_header or SURVEY_HEADER, *survey]:
        sheet.append(row)
    for name, header, rows in (
        ("choices", choices_header or CHOICES_HEADER, choices),
        ("settings", settings_header or SETTINGS_HEADER, settings),
    ):
        if rows is not None:
            extra = book.create_sheet(name)
            for row in [header, *rows]:
                extra.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def pizza_form() -> bytes:
    return workbook(PIZZA_SURVEY, PIZZA_CHOICES, PIZZA_SETTINGS)


def sheets_of(data: bytes) -> dict[str, list[dict]]:
    """Every sheet of a workbook as rows of {header: value}, for checking an export."""
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(data), read_only=True)
    out = {}
    for sheet in book.worksheets:
        rows = [list(r) for r in sheet.iter_rows(values_only=True)]
        header = rows[0] if rows else []
        out[sheet.title] = [
            {h: v for h, v in zip(header, row, strict=False) if h is not None and v is not None}
            for row in rows[1:]
        ]
    return out
