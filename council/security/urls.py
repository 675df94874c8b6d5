app_name = "security"
urlpatterns: list = []
