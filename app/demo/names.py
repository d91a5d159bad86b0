"""Place and project names for the demo province (Vĩnh Phúc, before the 2025 merger)."""

DISTRICTS: dict[str, tuple[str, list[str]]] = {
    # code: (name, a few communes/wards)
    "VY": ("Thành phố Vĩnh Yên", ["Định Trung", "Thanh Trù", "Khai Quang", "Liên Bảo", "Hội Hợp", "Đồng Tâm"]),
    "PY": ("Thành phố Phúc Yên", ["Ngọc Thanh", "Cao Minh", "Nam Viêm", "Tiền Châu", "Xuân Hòa", "Đồng Xuân"]),
    "BX": ("Huyện Bình Xuyên", ["Hương Canh", "Thanh Lãng", "Gia Khánh", "Thiện Kế", "Bá Hiến", "Sơn Lôi"]),
    "TD": ("Huyện Tam Đảo", ["Đại Đình", "Tam Quan", "Hồ Sơn", "Minh Quang", "Đạo Trù", "Yên Dương"]),
    "TDg": ("Huyện Tam Dương", ["Hợp Hòa", "Kim Long", "Hướng Đạo", "Đạo Tú", "An Hòa", "Hoàng Hoa"]),
    "LT": ("Huyện Lập Thạch", ["Xuân Lôi", "Tử Du", "Liễn Sơn", "Bắc Bình", "Thái Hòa", "Văn Quán"]),
    "SL": ("Huyện Sông Lô", ["Tam Sơn", "Đồng Thịnh", "Tứ Yên", "Nhân Đạo", "Lãng Công", "Hải Lựu"]),
    "VT": ("Huyện Vĩnh Tường", ["Thổ Tang", "Tứ Trưng", "Vĩnh Sơn", "Lũng Hòa", "Tân Phú", "Ngũ Kiên"]),
    "YL": ("Huyện Yên Lạc", ["Tề Lỗ", "Đồng Cương", "Tam Hồng", "Liên Châu", "Trung Nguyên", "Hồng Phương"]),
}

# sector: (templates, typical TMĐT range in tỷ)
SECTORS: dict[str, tuple[list[str], tuple[int, int]]] = {
    "transport": (["Đường giao thông liên xã {a} – {b}", "Cải tạo, nâng cấp đường tỉnh lộ qua xã {a}",
                   "Cầu qua kênh Liễn Sơn tại xã {a}", "Đường vành đai khu vực {a}"], (15, 900)),
    "education": (["Trường THCS {a}", "Nhà lớp học 3 tầng Trường Tiểu học {a}", "Trường Mầm non {a}",
                   "Trường THPT {a}: nhà đa năng và phòng học bộ môn"], (8, 90)),
    "health": (["Cải tạo, nâng cấp Trạm y tế xã {a}", "Trung tâm y tế huyện: khối điều trị nội trú ({a})",
                "Mua sắm thiết bị y tế cho Bệnh viện đa khoa khu vực {a}"], (6, 250)),
    "irrigation": (["Cứng hóa kênh tưới xã {a}", "Cải tạo trạm bơm {a}", "Kè chống sạt lở bờ sông tại {a}"],
                   (10, 200)),
    "urban": (["Hạ tầng kỹ thuật khu đấu giá quyền sử dụng đất {a}", "Hệ thống thoát nước khu vực {a}",
               "Chỉnh trang đô thị trung tâm {a}"], (20, 400)),
    "site_clearance": (["Bồi thường, GPMB tạo quỹ đất sạch tại {a}", "GPMB khu công nghiệp {a}"], (30, 600)),
    "culture": (["Nhà văn hóa trung tâm xã {a}", "Tu bổ di tích đình {a}", "Sân vận động huyện tại {a}"], (5, 120)),
    "administration": (["Trụ sở làm việc UBND xã {a}", "Trụ sở Công an xã {a}"], (5, 60)),
    "environment": (["Khu xử lý chất thải rắn {a}", "Cải tạo hồ điều hòa {a}"], (15, 300)),
}

PROVINCE_BOARDS = [
    ("BQL-GT", "Ban Quản lý dự án đầu tư xây dựng công trình giao thông tỉnh", ["transport", "irrigation"]),
    ("BQL-DDCN", "Ban Quản lý dự án đầu tư xây dựng công trình dân dụng và công nghiệp tỉnh",
     ["education", "health", "culture", "administration"]),
    ("BQL-NN", "Ban Quản lý dự án đầu tư xây dựng công trình nông nghiệp và phát triển nông thôn tỉnh",
     ["irrigation", "environment"]),
    ("BQL-KV", "Ban Quản lý dự án đầu tư xây dựng khu vực tỉnh", ["urban", "environment", "transport"]),
    ("TTPTQD", "Trung tâm Phát triển quỹ đất tỉnh", ["site_clearance"]),
    ("SYT", "Sở Y tế tỉnh Vĩnh Phúc", ["health"]),
    ("SGDDT", "Sở Giáo dục và Đào tạo tỉnh Vĩnh Phúc", ["education"]),
]

# People of the demo (DOMAIN.md §6): FICTIONAL only, never a real official's name next to synthetic figures. The
# given names say so: Mẫu (sample), Thử (test), Giả (made up). (title, full name, organisation code)
LEAD_OFFICIALS = [
    ("Phó Chủ tịch UBND tỉnh", "Hà Văn Mẫu", "UBND-VP"), ("Phó Chủ tịch UBND tỉnh", "Lạc Thị Thử", "UBND-VP"),
    ("Giám đốc Sở Kế hoạch và Đầu tư", "Kiều Minh Giả", "SKHDT"),
    ("Phó Giám đốc Ban QLDA công trình giao thông", "Âu Đức Mẫu", "BQL-GT"),
    ("Phó Giám đốc Ban QLDA công trình dân dụng và công nghiệp", "Mạc Thị Thử", "BQL-DDCN"),
    ("Giám đốc Trung tâm Phát triển quỹ đất", "Tôn Văn Giả", "TTPTQD"),
    ("Phó Chủ tịch UBND huyện", "Khổng Minh Mẫu", None), ("Phó Chủ tịch UBND huyện", "Doãn Thị Thử", None),
]

# The 3 provincial working groups (Tổ công tác): code, name, the index of their leader in LEAD_OFFICIALS, and their
# other members (title, full name, organisation code), all fictional.
WORKING_GROUPS: list[tuple[str, str, int, list[tuple[str, str, str | None]]]] = [
    ("TCT-1", "Tổ công tác số 1: giao thông, hạ tầng khu công nghiệp", 0,
     [("Phó Giám đốc Sở Giao thông vận tải", "Giáp Văn Thử", None), ("Phó Trưởng ban Ban Quản lý các KCN",
                                                                    "Ông Thị Mẫu", None)]),
    ("TCT-2", "Tổ công tác số 2: GPMB, đất đắp, bãi thải", 1,
     [("Phó Giám đốc Sở Tài nguyên và Môi trường", "Thân Văn Giả", None), ("Phó Giám đốc Trung tâm Phát triển quỹ "
                                                                          "đất", "Lò Thị Thử", "TTPTQD")]),
    ("TCT-3", "Tổ công tác số 3: y tế, giáo dục, văn hóa", 2,
     [("Phó Giám đốc Sở Y tế", "Quách Minh Mẫu", "SYT"), ("Phó Giám đốc Sở Giáo dục và Đào tạo", "Cù Thị Giả",
                                                          "SGDDT")]),
]

# Appendix 1 (Phụ lục 1): non-budget projects the province must unblock (the seed: industrial-park infrastructure,
# social housing, urban areas). Fictional names; (name, sector, district code, registered capital in tỷ, investor).
NON_BUDGET_PROJECTS = [  # invented parks and estates: no real project gets synthetic progress or obstacles
    ("Kết cấu hạ tầng khu công nghiệp số 7 (giả định)", "industrial_park", "BX", 1_850,
     "Công ty cổ phần Hạ tầng Mẫu Một"),
    ("Hạ tầng kỹ thuật khu công nghiệp phía Tây – khu vực 2 (giả định)", "industrial_park", "TDg", 2_400,
     "Công ty TNHH Phát triển KCN Thử Nghiệm"),
    ("Nhà ở xã hội cho công nhân khu công nghiệp số 7 – giai đoạn 1 (giả định)", "social_housing", "BX", 960,
     "Công ty cổ phần Nhà ở Giả Định"),
    ("Nhà ở xã hội khu A, thành phố Vĩnh Yên (giả định)", "social_housing", "VY", 720,
     "Công ty TNHH Đầu tư Mẫu Hai"),
    ("Khu đô thị mới số 3 (giả định)", "urban_area", "BX", 1_300, "Công ty cổ phần Đô thị Thử Nghiệm"),
    ("Cụm công nghiệp số 2 mở rộng (giả định)", "industrial_park", "VT", 410, "Công ty TNHH Hạ tầng Giả Định"),
]

# The action programme's three appendices (the seed, II.1): each with its reporting duty, reported "nhanh" (ad hoc)
# to the Department of Planning and Investment. (code, name, project funding)
PROGRAMME = "Chương trình hành động của UBND tỉnh, tháng 10/2024 (dữ liệu mẫu)"
PROGRAMME_DUTY = ("Định kỳ báo cáo nhanh tiến độ về Sở Kế hoạch và Đầu tư để tổng hợp, theo dõi, tham mưu báo cáo "
                  "UBND tỉnh")
PROGRAMME_LISTS = [
    ("app1", "Phụ lục 1: Dự án đầu tư ngoài ngân sách cần tháo gỡ khó khăn, vướng mắc", "non_budget"),
    ("app2", "Phụ lục 2: Dự án đầu tư công lớn, trọng điểm", "public"),
    ("app3", "Phụ lục 3: Dự án lớn có khả năng hoàn thành năm 2025, khánh thành chào mừng Đại hội đại biểu Đảng bộ "
     "tỉnh", "public"),
]
