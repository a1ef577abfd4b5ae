from django.urls import path

from . import views

urlpatterns = [
    path("", views.home, name="home"),
    path("map/clusters.json", views.map_clusters, name="map-clusters"),
]
