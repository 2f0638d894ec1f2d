from django.db import models


class Human(models.Model):
    id = models.IntegerField(primary_key=True)
    name = models.TextField()
    is_deleted = models.BooleanField(default=False)

    class Meta:
        managed = False
        db_table = "humans"


class Alien(models.Model):
    id = models.IntegerField(primary_key=True)
    name = models.TextField()
    # CASCADE: deleting a human makes Django collect (SELECT) and delete its aliens first.
    human = models.ForeignKey(Human, null=True, on_delete=models.CASCADE, related_name="aliens")
    is_deleted = models.BooleanField(default=False)

    class Meta:
        managed = False
        db_table = "aliens"
