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

LEAD_OFFICIALS = [
    "Phó Chủ tịch UBND tỉnh Vũ Việt Văn", "Phó Chủ tịch UBND tỉnh Nguyễn Khắc Hiếu",
    "Giám đốc Sở KH&ĐT Nguyễn Văn Khước", "Phó Giám đốc Ban QLDA GT Trần Đức Thịnh",
    "Phó Giám đốc Ban QLDA DD&CN Lê Minh Tuấn", "Giám đốc TTPTQĐ Nguyễn Thị Hoa",
    "Phó Chủ tịch UBND huyện Hoàng Văn Nam", "Phó Chủ tịch UBND huyện Đỗ Thị Lan",
]

WORKING_GROUPS = [
    ("TCT-1", "Tổ công tác số 1: giao thông, hạ tầng khu công nghiệp", "Phó Chủ tịch UBND tỉnh Vũ Việt Văn"),
    ("TCT-2", "Tổ công tác số 2: GPMB, đất đắp, bãi thải", "Phó Chủ tịch UBND tỉnh Nguyễn Khắc Hiếu"),
    ("TCT-3", "Tổ công tác số 3: y tế, giáo dục, văn hóa", "Giám đốc Sở KH&ĐT Nguyễn Văn Khước"),
]
