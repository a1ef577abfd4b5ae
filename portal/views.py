from django.shortcuts import render

from cameras.models import Release


def home(request):
    release = Release.objects.order_by("-number").first()
    return render(request, "portal/home.html", {"release": release})
